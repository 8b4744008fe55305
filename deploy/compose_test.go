// Package deploy checks the deployment files at the repository's root.
package deploy

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
)

// composeEnv is the environment every load gets: the settings the
// compose file requires.
var composeEnv = []string{"CARI_SEARCH_KEYS=s", "CARI_ADMIN_KEYS=a", "QDRANT_API_KEY=k"}

// deployments are the ways docs/OPERATIONS.md starts the stack: files and
// profiles.
var deployments = []struct {
	files, profiles []string
}{
	{[]string{"docker-compose.yml"}, nil},
	{[]string{"docker-compose.yml"}, []string{"cluster"}},
	{[]string{"docker-compose.yml", "deploy/compose.gpu.yml"}, nil},
	{[]string{"docker-compose.yml", "deploy/compose.gpu.yml"}, []string{"cluster"}},
}

// load reads the compose files (relative to root) with the Compose
// specification's reference loader.
func load(t *testing.T, root string, files, profiles, env []string) (*types.Project, error) {
	t.Helper()
	paths := make([]string, len(files))
	for i, f := range files {
		paths[i] = filepath.Join(root, f)
	}
	opts, err := cli.NewProjectOptions(paths, cli.WithName("cari"), cli.WithProfiles(profiles), cli.WithEnv(env))
	if err != nil {
		t.Fatal(err)
	}
	return opts.LoadProject(context.Background())
}

// TestComposeFile loads docker-compose.yml, alone and with the GPU
// override, once per profile set, and checks what a broken deployment
// would get wrong: a service without a health check, two services on one
// host port, a named volume nobody declared, and the defects of
// defects_test.go.
func TestComposeFile(t *testing.T) {
	for _, d := range deployments {
		t.Run(fmt.Sprint(d.files, d.profiles), func(t *testing.T) {
			p, err := load(t, "..", d.files, d.profiles, composeEnv)
			if err != nil {
				t.Fatalf("load: %v", err)
			}
			for _, problem := range append(problems(t, p), defects(p)...) {
				t.Error(problem)
			}
			checkProject(t, p, d.profiles, len(d.files) > 1)
		})
	}
	for _, problem := range buildDefects("..") {
		t.Error(problem)
	}
}

// TestQdrantKeyRequired: without QDRANT_API_KEY the file does not load,
// rather than start Qdrant with authentication on and an empty key.
func TestQdrantKeyRequired(t *testing.T) {
	_, err := load(t, "..", []string{"docker-compose.yml"}, nil, composeEnv[:2])
	if err == nil || !strings.Contains(err.Error(), "QDRANT_API_KEY") {
		t.Errorf("loaded without QDRANT_API_KEY: %v", err)
	}
}

func checkProject(t *testing.T, p *types.Project, profiles []string, gpu bool) {
	want := []string{"qdrant", "embeddings", "reranker", "serve", "worker", "redis", "crawler"}
	if contains(profiles, "cluster") {
		want = append(want, "qdrant-2", "qdrant-3")
	}
	if gpu {
		want = append(want, "embeddings-gpu", "reranker-gpu")
	}
	for _, name := range want {
		if _, ok := p.Services[name]; !ok {
			t.Errorf("service %s missing", name)
		}
	}
	if len(p.Services) != len(want) {
		t.Errorf("%d services, want %d (%v)", len(p.Services), len(want), want)
	}
	serve := p.Services["serve"]
	if serve.Deploy == nil || serve.Deploy.Replicas == nil || *serve.Deploy.Replicas != 2 {
		t.Errorf("serve: deploy %v, want 2 replicas", serve.Deploy)
	}
	env := p.Services["serve"].Environment
	if v := env["CARI_STORE"]; v == nil || *v != "qdrant" {
		t.Errorf("serve: CARI_STORE %v, want qdrant", v)
	}
	if v := env["CARI_QDRANT_ADDR"]; v == nil || *v != "qdrant:6334" {
		t.Errorf("serve: CARI_QDRANT_ADDR %v", v)
	}
	worker := strings.Join(p.Services["worker"].Command, " ")
	for _, flag := range []string{"--store=qdrant", "--qdrant-addr=qdrant:6334", "--embedder=openai"} {
		if !strings.Contains(worker, flag) {
			t.Errorf("worker command %q lacks %s", worker, flag)
		}
	}
	crawler := p.Services["crawler"]
	if crawler.Deploy == nil || crawler.Deploy.Replicas == nil || *crawler.Deploy.Replicas != 2 {
		t.Errorf("crawler: deploy %v, want 2 replicas by default", crawler.Deploy)
	}
	for name, cmd := range map[string]string{"worker": worker, "crawler": strings.Join(crawler.Command, " ")} {
		if !strings.Contains(cmd, "--frontier=redis://redis:6379/0") || !strings.Contains(cmd, "--job=docs") {
			t.Errorf("%s command %q is not a worker of the shared job", name, cmd)
		}
	}
	if v := crawler.Environment["CARI_API_KEY"]; v == nil || *v != "a" {
		t.Errorf("crawler: CARI_API_KEY %v, want the admin key", v)
	}
	if n := len(p.Services["serve"].Ports); n == 0 {
		t.Error("serve publishes no ports")
	}
}

// problems lists what would break a deployment of p: services without a
// health check, host ports published twice, named volumes not declared.
func problems(t *testing.T, p *types.Project) []string {
	var out []string
	hostPorts := map[string]string{}
	names := make([]string, 0, len(p.Services))
	for name := range p.Services {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		s := p.Services[name]
		if s.HealthCheck == nil || s.HealthCheck.Disable || len(s.HealthCheck.Test) == 0 {
			out = append(out, fmt.Sprintf("service %s has no health check", name))
		}
		for _, port := range s.Ports {
			for _, hp := range publishedPorts(t, port.Published) {
				key := port.HostIP + ":" + strconv.Itoa(hp)
				if other, taken := hostPorts[key]; taken {
					out = append(out, fmt.Sprintf("host port %s published by %s and %s", key, other, name))
				}
				hostPorts[key] = name
			}
		}
		for _, v := range s.Volumes {
			if v.Type != types.VolumeTypeVolume {
				continue
			}
			if _, ok := p.Volumes[v.Source]; !ok {
				out = append(out, fmt.Sprintf("service %s mounts volume %q, which is not declared", name, v.Source))
			}
		}
	}
	return out
}

// TestProblemsFound checks that the checks catch what they look for, on a
// compose file with one of each mistake.
func TestProblemsFound(t *testing.T) {
	p, err := load(t, ".", []string{"testdata/broken.yml"}, nil, nil)
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	got := problems(t, p)
	want := []string{
		"service a has no health check",
		"host port 127.0.0.1:8081 published by a and b",
	}
	if !slices.Equal(got, want) {
		t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// An undeclared named volume is an error of the loader itself.
	if _, err := load(t, ".", []string{"testdata/undeclared-volume.yml"}, nil, nil); err == nil || !strings.Contains(err.Error(), "data") {
		t.Errorf("undeclared volume loaded: %v", err)
	}
}

// publishedPorts expands "7700" or "7700-7701" into host ports.
func publishedPorts(t *testing.T, s string) []int {
	if s == "" {
		return nil
	}
	lo, hi, isRange := strings.Cut(s, "-")
	a, err := strconv.Atoi(lo)
	if err != nil {
		t.Fatalf("published port %q: %v", s, err)
	}
	if !isRange {
		return []int{a}
	}
	b, err := strconv.Atoi(hi)
	if err != nil || b < a {
		t.Fatalf("published port range %q", s)
	}
	var out []int
	for p := a; p <= b; p++ {
		out = append(out, p)
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
