package main

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/spf13/pflag"
)

// TestComposeSettingsExist checks docker-compose.yml against the binary:
// every CARI_* variable of the serve replicas names a serve flag (or a key
// variable the clients read), and every flag of the worker's command is a
// crawl flag, so a renamed flag cannot leave the deployment silently
// misconfigured.
func TestComposeSettingsExist(t *testing.T) {
	opts, err := cli.NewProjectOptions([]string{"../../docker-compose.yml"}, cli.WithName("cari"),
		cli.WithEnv([]string{"CARI_SEARCH_KEYS=s", "CARI_ADMIN_KEYS=a", "QDRANT_API_KEY=k"}))
	if err != nil {
		t.Fatal(err)
	}
	p, err := opts.LoadProject(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	root := newRootCmd()
	find := func(name string) *pflag.FlagSet {
		for _, c := range root.Commands() {
			if c.Name() == name {
				return c.Flags()
			}
		}
		t.Fatalf("no %s command", name)
		return nil
	}
	serve := find("serve")
	checked := 0
	for name := range p.Services["serve"].Environment {
		if !strings.HasPrefix(name, envPrefix) || slices.Contains(apiKeyEnvs, name) {
			continue
		}
		flag := strings.ToLower(strings.ReplaceAll(strings.TrimPrefix(name, envPrefix), "_", "-"))
		if serve.Lookup(flag) == nil {
			t.Errorf("serve environment sets %s, but serve has no --%s", name, flag)
		}
		checked++
	}
	if checked < 5 {
		t.Errorf("only %d CARI_* settings on serve; the compose file lost its configuration", checked)
	}
	crawl := find("crawl")
	cmd := p.Services["worker"].Command
	if len(cmd) == 0 || cmd[0] != "crawl" {
		t.Fatalf("worker command %v, want crawl ...", cmd)
	}
	for _, arg := range cmd[1:] {
		name, _, _ := strings.Cut(strings.TrimPrefix(arg, "--"), "=")
		if !strings.HasPrefix(arg, "--") || crawl.Lookup(name) == nil {
			t.Errorf("worker argument %q is not a crawl flag", arg)
		}
	}
}
