package main

// Configuration of cari serve. Every setting is a flag, and the flags are
// the single source of truth: a YAML config file and CARI_* environment
// variables only supply values for flags not given on the command line.
// Precedence: flag > environment > file > default.
//
//   - File keys are flag names: `http-addr: 0.0.0.0:7701`. Nested maps join
//     their keys with "-", and "_" reads as "-", so
//     `http: {cors_origins: [...]}` sets --http-cors-origins.
//   - Environment variables are CARI_ and the flag name in upper case with
//     "_" for "-": CARI_HTTP_ADDR sets --http-addr.
//   - Lists are YAML sequences in the file and comma-separated elsewhere.
//
// Because the rule covers every flag of the command, flags that stack.go
// registers (--data, the model flags) join the configuration without
// further wiring. A flag holding a secret is marked with markSecret and
// masked by `cari config print`.

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"go.yaml.in/yaml/v3"

	"github.com/cari-search/cari/embeddings"
	"github.com/cari-search/cari/searcher/rerank"
	"github.com/cari-search/cari/server/exa"
)

const (
	// envPrefix starts every configuration environment variable.
	envPrefix = "CARI_"
	// configEnv names the config file when --config is not given.
	configEnv = "CARI_CONFIG"
	// secretAnnotation marks a flag whose value config print masks.
	secretAnnotation = "cari/secret"
	// mask stands for a secret in config print's output.
	mask = "********"
)

// notConfig are flags that configure the command line itself.
var notConfig = map[string]bool{"help": true, "config": true}

// markSecret marks flags whose values are secrets (API keys, tokens):
// `cari config print` prints them masked.
func markSecret(fs *pflag.FlagSet, names ...string) {
	for _, n := range names {
		if err := fs.SetAnnotation(n, secretAnnotation, []string{"true"}); err != nil {
			panic(fmt.Sprintf("markSecret: %v", err)) // a flag name typo in the code
		}
	}
}

func isSecret(f *pflag.Flag) bool {
	if _, ok := f.Annotations[secretAnnotation]; ok {
		return true
	}
	// Defence in depth for flags registered elsewhere without the mark:
	// those holding text with a secret's name. A number is never a secret
	// (--rerank-max-tokens is a count).
	n := f.Name
	return strings.HasPrefix(f.Value.Type(), "string") &&
		(strings.HasSuffix(n, "-key") || strings.HasSuffix(n, "-keys") || strings.Contains(n, "token") ||
			strings.Contains(n, "password") || strings.Contains(n, "secret"))
}

// envName is the environment variable that sets flag name.
func envName(name string) string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// Where a setting's value came from.
const (
	fromDefault = "default"
	fromFile    = "file"
	fromEnv     = "env"
	fromFlag    = "flag"
)

// config is the outcome of applying the file and the environment.
type config struct {
	// file is the config file read, if any.
	file string
	// source says where each flag's value came from.
	source map[string]string
	// unknownEnv are CARI_* variables that set nothing, likely misspelt.
	unknownEnv []string
}

// apiKeyEnvs are the variables holding API keys, read from the environment
// by the clients themselves, never through a flag, so that they stay out
// of process listings.
var apiKeyEnvs = []string{embeddings.DefaultAPIKeyEnv, rerank.DefaultAPIKeyEnv, exa.DefaultAnswerAPIKeyEnv, clientKeyEnv, qdrantAPIKeyEnv}

// loadConfig fills the flags of fs not set on the command line from the
// environment, then from the config file (--config, or CARI_CONFIG). An
// unknown file key, or a value a flag does not accept, is an error naming
// it; unknown CARI_* variables are returned for a warning.
func loadConfig(fs *pflag.FlagSet, environ []string) (*config, error) {
	env := map[string]string{}
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(k, envPrefix) {
			env[k] = v
		}
	}
	cfg := &config{source: map[string]string{}}
	if f := fs.Lookup("config"); f != nil && f.Changed {
		cfg.file = f.Value.String()
	} else {
		cfg.file = env[configEnv]
	}
	fileValues := map[string]any{}
	if cfg.file != "" {
		var err error
		if fileValues, err = readConfigFile(cfg.file, fs); err != nil {
			return nil, err
		}
	}
	known := map[string]bool{configEnv: true}
	for _, k := range apiKeyEnvs {
		known[k] = true
	}
	var errs []error
	fs.VisitAll(func(f *pflag.Flag) {
		if notConfig[f.Name] {
			return
		}
		en := envName(f.Name)
		known[en] = true
		if f.Changed {
			cfg.source[f.Name] = fromFlag
			return
		}
		if v, ok := env[en]; ok {
			if err := f.Value.Set(v); err != nil {
				errs = append(errs, fmt.Errorf("environment variable %s: %w", en, err))
			}
			cfg.source[f.Name] = fromEnv
			return
		}
		if v, ok := fileValues[f.Name]; ok {
			if err := setFromFile(f, v); err != nil {
				errs = append(errs, fmt.Errorf("config file %s: %s: %w", cfg.file, f.Name, err))
			}
			cfg.source[f.Name] = fromFile
			return
		}
		cfg.source[f.Name] = fromDefault
	})
	for k := range env {
		if !known[k] {
			cfg.unknownEnv = append(cfg.unknownEnv, k)
		}
	}
	sort.Strings(cfg.unknownEnv)
	return cfg, errors.Join(errs...)
}

// readConfigFile reads a YAML file into flag name -> value (a string or a
// list of strings), checking that every key names a flag of fs.
func readConfigFile(path string, fs *pflag.FlagSet) (map[string]any, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config file: %w", err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("config file %s: %w", path, err)
	}
	out := map[string]any{}
	if len(doc.Content) == 0 {
		return out, nil // empty file
	}
	if err := flattenYAML(doc.Content[0], "", out); err != nil {
		return nil, fmt.Errorf("config file %s: %w", path, err)
	}
	for k := range out {
		if f := fs.Lookup(k); f == nil || notConfig[k] {
			return nil, fmt.Errorf("config file %s: unknown setting %q (no flag --%s; see cari config print)", path, k, k)
		}
	}
	return out, nil
}

// flattenYAML walks a mapping, joining nested keys with "-".
func flattenYAML(n *yaml.Node, prefix string, out map[string]any) error {
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: want a mapping of settings", n.Line)
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		key := strings.ToLower(strings.ReplaceAll(k.Value, "_", "-"))
		if prefix != "" {
			key = prefix + "-" + key
		}
		if _, dup := out[key]; dup {
			return fmt.Errorf("line %d: %s is set twice", k.Line, key)
		}
		switch v.Kind {
		case yaml.MappingNode:
			if err := flattenYAML(v, key, out); err != nil {
				return err
			}
		case yaml.SequenceNode:
			list := []string{}
			for _, e := range v.Content {
				if e.Kind != yaml.ScalarNode {
					return fmt.Errorf("line %d: %s: want a list of plain values", e.Line, key)
				}
				list = append(list, e.Value)
			}
			out[key] = list
		case yaml.ScalarNode:
			if v.Tag == "!!null" {
				return fmt.Errorf("line %d: %s has no value", v.Line, key)
			}
			out[key] = v.Value
		default:
			return fmt.Errorf("line %d: %s: unsupported value", v.Line, key)
		}
	}
	return nil
}

func setFromFile(f *pflag.Flag, v any) error {
	switch v := v.(type) {
	case []string:
		if sv, ok := f.Value.(pflag.SliceValue); ok {
			return sv.Replace(v)
		}
		return fmt.Errorf("takes one value, not a list")
	case string:
		if sv, ok := f.Value.(pflag.SliceValue); ok {
			return sv.Replace(splitList(v))
		}
		return f.Value.Set(v)
	}
	return fmt.Errorf("unsupported value %v", v)
}

func splitList(s string) []string {
	var out []string
	for p := range strings.SplitSeq(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// printConfig writes the effective configuration as a YAML config file,
// each setting with its help above it and its source beside it, secrets
// masked.
func printConfig(w io.Writer, fs *pflag.FlagSet, cfg *config) error {
	root := &yaml.Node{Kind: yaml.MappingNode}
	fs.VisitAll(func(f *pflag.Flag) {
		if notConfig[f.Name] {
			return
		}
		key := &yaml.Node{Kind: yaml.ScalarNode, Value: f.Name, HeadComment: f.Usage}
		src := cfg.source[f.Name]
		switch src {
		case fromEnv:
			src += " " + envName(f.Name)
		case "":
			src = fromDefault
		}
		val := valueNode(f)
		val.LineComment = src
		root.Content = append(root.Content, key, val)
	})
	file := cfg.file
	if file == "" {
		file = "none"
	}
	doc := &yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{root}, HeadComment: fmt.Sprintf(
		"Effective configuration of cari serve. Precedence: flag > environment (%s<FLAG>) > config file > default.\nConfig file: %s", envPrefix, file)}
	enc := yaml.NewEncoder(w)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return err
	}
	if len(cfg.unknownEnv) > 0 {
		fmt.Fprintf(w, "# Unknown environment variables, ignored: %s\n", strings.Join(cfg.unknownEnv, ", "))
	}
	return enc.Close()
}

// valueNode is a flag's value as YAML: a list for slice flags, a bare
// number or boolean where the flag holds one, otherwise a string.
func valueNode(f *pflag.Flag) *yaml.Node {
	secret := isSecret(f)
	if sv, ok := f.Value.(pflag.SliceValue); ok {
		n := &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
		for _, s := range sv.GetSlice() {
			if secret {
				s = mask
			}
			n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s})
		}
		return n
	}
	s := f.Value.String()
	if secret && s != "" {
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: mask}
	}
	switch f.Value.Type() {
	case "bool":
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: s}
	case "int", "int32", "int64", "uint", "uint32", "uint64":
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: s}
	case "float32", "float64":
		if !strings.ContainsAny(s, ".eEnN") {
			s += ".0" // so that YAML reads a float, not an int
		}
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!float", Value: s}
	}
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s}
}

// byteSize is a flag holding a number of bytes, written plainly or with a
// binary unit: 16MiB, 1GiB, 512KiB.
type byteSize int64

var byteUnits = []struct {
	suffix string
	mult   int64
}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"B", 1}}

func (b *byteSize) String() string {
	for _, u := range byteUnits {
		if *b != 0 && int64(*b)%u.mult == 0 && u.mult > 1 {
			return strconv.FormatInt(int64(*b)/u.mult, 10) + u.suffix
		}
	}
	return strconv.FormatInt(int64(*b), 10)
}

func (b *byteSize) Set(s string) error {
	s = strings.TrimSpace(s)
	mult := int64(1)
	for _, u := range byteUnits {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSpace(strings.TrimSuffix(s, u.suffix)), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || n > (1<<62)/mult {
		return fmt.Errorf("want a size such as 1048576, 512KiB, 16MiB or 1GiB")
	}
	*b = byteSize(n * mult)
	return nil
}

func (b *byteSize) Type() string { return "bytes" }

// newConfigCmd is `cari config`, with `print`.
func newConfigCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Show cari serve's configuration",
	}
	var sf serveFlags
	print := &cobra.Command{
		Use:   "print [serve flags]",
		Short: "Print the effective configuration of cari serve, secrets masked",
		Long: `Print resolves cari serve's configuration as serve would, from the same
flags, CARI_* environment variables and config file (--config or
CARI_CONFIG), and prints it as YAML: a valid config file, each setting
with its help and where its value came from. API keys and other secrets
are masked.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(cmd.Flags(), os.Environ())
			if err != nil {
				return err
			}
			return printConfig(cmd.OutOrStdout(), cmd.Flags(), cfg)
		},
	}
	sf.register(print.Flags())
	cmd.AddCommand(print)
	return cmd
}
