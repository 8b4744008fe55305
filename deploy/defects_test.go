package deploy

import (
	"fmt"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
)

// defects lists what would keep the deployment in p from coming up or
// serving as the real servers behave, each named after the server's own
// rule. dir is where docker-compose.yml lives (for the Dockerfile, go.mod
// and .dockerignore).
func defects(p *types.Project) []string {
	var out []string
	for _, name := range serviceNames(p) {
		s := p.Services[name]
		out = append(out, imageDefects(name, s)...)
		out = append(out, qdrantDefects(name, s)...)
		out = append(out, teiDefects(name, s)...)
	}
	out = append(out, vllmDefects(p)...)
	out = append(out, serveDefects(p)...)
	return out
}

func serviceNames(p *types.Project) []string {
	names := make([]string, 0, len(p.Services))
	for name := range p.Services {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// running reports whether s gets a container (an override may scale a
// service to 0 rather than remove it).
func running(s types.ServiceConfig) bool {
	return s.Deploy == nil || s.Deploy.Replicas == nil || *s.Deploy.Replicas > 0
}

// imageDefects: an image that is not pinned to a tag moves under the
// deployment ("latest" or none at all).
func imageDefects(name string, s types.ServiceConfig) []string {
	if s.Image == "" || s.Build != nil {
		return nil
	}
	_, tag, ok := strings.Cut(s.Image[strings.LastIndex(s.Image, "/")+1:], ":")
	if !ok || tag == "" || tag == "latest" || strings.HasSuffix(tag, "-latest") {
		return []string{fmt.Sprintf("service %s: image %q is not pinned to a release tag", name, s.Image)}
	}
	return nil
}

// qdrantDefects: Qdrant's config loader keeps an empty
// QDRANT__SERVICE__API_KEY, which turns authentication on with an empty
// key that no client sends (qdrant/qdrant src/settings.rs); --uri and
// --bootstrap only act with cluster mode on (src/main.rs).
func qdrantDefects(name string, s types.ServiceConfig) []string {
	if !strings.HasPrefix(s.Image, "qdrant/qdrant") {
		return nil
	}
	var out []string
	if v, ok := s.Environment["QDRANT__SERVICE__API_KEY"]; ok && (v == nil || *v == "") {
		out = append(out, fmt.Sprintf("service %s: QDRANT__SERVICE__API_KEY is set but empty, which turns authentication on with a key no client sends", name))
	}
	cmd := strings.Join(s.Command, " ")
	if strings.Contains(cmd, "--uri") || strings.Contains(cmd, "--bootstrap") {
		if v := s.Environment["QDRANT__CLUSTER__ENABLED"]; v == nil || *v != "true" {
			out = append(out, fmt.Sprintf("service %s: --uri/--bootstrap without QDRANT__CLUSTER__ENABLED=true make an unrelated node", name))
		}
	}
	return out
}

// causalRerankers are re-rankers that are causal LMs: TEI re-ranks only
// *ForSequenceClassification models, and its candle backend refuses Qwen3
// as a classifier (huggingface/text-embeddings-inference
// backends/candle/src/models/qwen3.rs; issues #643, #691).
var causalRerankers = regexp.MustCompile(`(?i)qwen3-reranker`)

func teiDefects(name string, s types.ServiceConfig) []string {
	if !strings.Contains(s.Image, "text-embeddings-inference") || !running(s) {
		return nil
	}
	model := flagValue(s.Command, "--model-id")
	if causalRerankers.MatchString(model) {
		return []string{fmt.Sprintf("service %s: TEI cannot serve %s (a causal LM, not a sequence classifier)", name, model)}
	}
	return nil
}

// vllmDefects: the flags vLLM no longer takes, the shared memory its
// Docker guide asks for, and the GPU memory that servers sharing a device
// claim together (--gpu-memory-utilization, 0.9 by default, is the share
// of the whole device each one takes).
func vllmDefects(p *types.Project) []string {
	var out []string
	share := map[string]float64{}
	users := map[string][]string{}
	for _, name := range serviceNames(p) {
		s := p.Services[name]
		if !strings.HasPrefix(s.Image, "vllm/") || !running(s) {
			continue
		}
		if slices.Contains(s.Command, "--task") {
			out = append(out, fmt.Sprintf("service %s: vLLM 0.13 removed --task; use --runner pooling", name))
		}
		if s.Ipc != "host" && s.ShmSize == 0 {
			out = append(out, fmt.Sprintf("service %s: vLLM needs ipc: host or shm_size", name))
		}
		util := 0.9
		if v := flagValue(s.Command, "--gpu-memory-utilization"); v != "" {
			util, _ = strconv.ParseFloat(v, 64)
		}
		for _, dev := range gpus(s) {
			share[dev] += util
			users[dev] = append(users[dev], name)
		}
	}
	for dev, total := range share {
		if total > 0.95 {
			out = append(out, fmt.Sprintf("GPU %s: %s claim %.2f of its memory together", dev, strings.Join(users[dev], " and "), total))
		}
	}
	return out
}

// gpus names the devices s reserves: their ids, or "0" for a count (the
// first devices).
func gpus(s types.ServiceConfig) []string {
	if s.Deploy == nil || s.Deploy.Resources.Reservations == nil {
		return nil
	}
	var out []string
	for _, d := range s.Deploy.Resources.Reservations.Devices {
		if !slices.Contains(d.Capabilities, "gpu") {
			continue
		}
		if len(d.IDs) == 0 {
			out = append(out, "0")
		}
		out = append(out, d.IDs...)
	}
	return out
}

// serveDefects: serve and the worker wait only for what runs, serve's
// model URLs name running servers of the kind its re-ranker setting
// speaks, and one process (the worker) creates the first generation.
func serveDefects(p *types.Project) []string {
	var out []string
	for _, name := range []string{"serve", "worker"} {
		s, ok := p.Services[name]
		if !ok {
			continue
		}
		for dep := range s.DependsOn {
			if d, ok := p.Services[dep]; ok && !running(d) {
				out = append(out, fmt.Sprintf("service %s waits for %s, which runs no container", name, dep))
			}
		}
	}
	serve, ok := p.Services["serve"]
	if !ok {
		return out
	}
	env := func(k string) string {
		if v := serve.Environment[k]; v != nil {
			return *v
		}
		return ""
	}
	for _, k := range []string{"CARI_EMBED_URL", "CARI_RERANK_URL"} {
		host := urlHost(env(k))
		if d, ok := p.Services[host]; !ok || !running(d) {
			out = append(out, fmt.Sprintf("serve: %s names %q, which is no running service", k, host))
		}
	}
	if d, ok := p.Services[urlHost(env("CARI_RERANK_URL"))]; ok {
		kind := env("CARI_RERANKER")
		switch {
		case strings.Contains(d.Image, "text-embeddings-inference") && kind != "tei":
			out = append(out, fmt.Sprintf("serve: CARI_RERANKER=%s, but the re-ranker is TEI (tei)", kind))
		case strings.HasPrefix(d.Image, "vllm/") && kind == "tei":
			out = append(out, "serve: CARI_RERANKER=tei, but the re-ranker is vLLM (rerank-api)")
		}
	}
	if _, ok := p.Services["worker"]; ok {
		if dep, ok := serve.DependsOn["worker"]; !ok || dep.Condition != types.ServiceConditionHealthy {
			out = append(out, "serve does not wait for the worker to be healthy: replicas and worker would each create a generation and move the alias")
		}
	}
	return out
}

func urlHost(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return ""
	}
	return u.Hostname()
}

// flagValue is the argument after flag in cmd, or of --flag=value.
func flagValue(cmd []string, flag string) string {
	for i, a := range cmd {
		if a == flag && i+1 < len(cmd) {
			return cmd[i+1]
		}
		if v, ok := strings.CutPrefix(a, flag+"="); ok {
			return v
		}
	}
	return ""
}

// buildDefects checks the files docker compose build reads: the Go image
// matches go.mod's toolchain, and .dockerignore keeps the models and
// binaries out of the context.
func buildDefects(root string) []string {
	var out []string
	gomod, err := os.ReadFile(root + "/go.mod")
	if err != nil {
		return []string{err.Error()}
	}
	goVersion := regexp.MustCompile(`(?m)^go (\S+)`).FindSubmatch(gomod)
	dockerfile, err := os.ReadFile(root + "/Dockerfile")
	if err != nil {
		return []string{err.Error()}
	}
	from := regexp.MustCompile(`(?m)^FROM golang:(\S+?)(-\S+)? AS build`).FindSubmatch(dockerfile)
	if goVersion == nil || from == nil || string(from[1]) != string(goVersion[1]) {
		out = append(out, fmt.Sprintf("Dockerfile builds with golang:%s, go.mod names go %s", field(from, 1), field(goVersion, 1)))
	}
	ignore, err := os.ReadFile(root + "/.dockerignore")
	if err != nil {
		return append(out, "no .dockerignore: the build context carries bin/ and models/")
	}
	lines := strings.Fields(string(ignore))
	for _, want := range []string{"bin", "models", ".git"} {
		if !slices.Contains(lines, want) && !slices.Contains(lines, "/"+want) {
			out = append(out, fmt.Sprintf(".dockerignore does not leave out %s", want))
		}
	}
	return out
}

func field(m [][]byte, i int) string {
	if len(m) <= i {
		return "?"
	}
	return string(m[i])
}
