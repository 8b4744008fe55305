// Package flagconfig fills a command's pflag flags from a YAML config file
// and environment variables, so that the flags stay the single source of
// truth for every setting. Precedence: flag > environment > file > default.
//
//   - File keys are flag names: `http-addr: 0.0.0.0:7701`. Nested maps join
//     their keys with "-", and "_" reads as "-", so
//     `http: {cors_origins: [...]}` sets --http-cors-origins.
//   - Environment variables are the prefix and the flag name in upper case
//     with "_" for "-": with prefix CARI_, CARI_HTTP_ADDR sets --http-addr.
//   - Lists are YAML sequences in the file and comma-separated elsewhere.
//
// Because the rule covers every flag of a set, flags registered anywhere
// join the configuration without further wiring. A flag holding a secret
// is marked with MarkSecret and masked by Print.
package flagconfig

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/spf13/pflag"
	"go.yaml.in/yaml/v3"
)

// Where a setting's value came from, as Config.Source records it.
const (
	FromDefault = "default"
	FromFile    = "file"
	FromEnv     = "env"
	FromFlag    = "flag"
)

// Loader says how a program names its configuration: the environment
// variables' prefix, the flag and variable naming the file, and the
// variables with the prefix that are no flags.
type Loader struct {
	// Prefix starts every configuration environment variable ("CARI_").
	Prefix string
	// FileFlag is the flag naming the config file ("config"); it and
	// "help" are no settings.
	FileFlag string
	// FileEnv names the config file when FileFlag is not given.
	FileEnv string
	// KnownEnv are variables with Prefix that set no flag but are read
	// elsewhere (API keys), so that they are not reported as unknown.
	KnownEnv []string
	// PrintCommand is the command that prints the configuration, named in
	// the error about an unknown file key.
	PrintCommand string
}

// Config is the outcome of applying the file and the environment.
type Config struct {
	// File is the config file read, if any.
	File string
	// Source says where each flag's value came from: FromFlag, FromEnv,
	// FromFile or FromDefault.
	Source map[string]string
	// UnknownEnv are variables with the prefix that set nothing, likely
	// misspelt.
	UnknownEnv []string

	prefix string
	skip   map[string]bool
}

// EnvName is the environment variable that sets flag name.
func (l Loader) EnvName(name string) string {
	return l.Prefix + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// notConfig are the flags that configure the command line itself.
func (l Loader) notConfig() map[string]bool {
	return map[string]bool{"help": true, l.FileFlag: true}
}

// Load fills the flags of fs not set on the command line from the
// environment, then from the config file (FileFlag, or FileEnv). An
// unknown file key, or a value a flag does not accept, is an error naming
// it; unknown variables with the prefix are returned for a warning.
func (l Loader) Load(fs *pflag.FlagSet, environ []string) (*Config, error) {
	env := map[string]string{}
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(k, l.Prefix) {
			env[k] = v
		}
	}
	cfg := &Config{Source: map[string]string{}, prefix: l.Prefix, skip: l.notConfig()}
	if f := fs.Lookup(l.FileFlag); f != nil && f.Changed {
		cfg.File = f.Value.String()
	} else {
		cfg.File = env[l.FileEnv]
	}
	fileValues := map[string]any{}
	if cfg.File != "" {
		var err error
		if fileValues, err = l.readFile(cfg.File, fs); err != nil {
			return nil, err
		}
	}
	known := map[string]bool{l.FileEnv: true}
	for _, k := range l.KnownEnv {
		known[k] = true
	}
	var errs []error
	fs.VisitAll(func(f *pflag.Flag) {
		if cfg.skip[f.Name] {
			return
		}
		en := l.EnvName(f.Name)
		known[en] = true
		if f.Changed {
			cfg.Source[f.Name] = FromFlag
			return
		}
		if v, ok := env[en]; ok {
			if err := f.Value.Set(v); err != nil {
				errs = append(errs, fmt.Errorf("environment variable %s: %w", en, err))
			}
			cfg.Source[f.Name] = FromEnv
			return
		}
		if v, ok := fileValues[f.Name]; ok {
			if err := setFromFile(f, v); err != nil {
				errs = append(errs, fmt.Errorf("config file %s: %s: %w", cfg.File, f.Name, err))
			}
			cfg.Source[f.Name] = FromFile
			return
		}
		cfg.Source[f.Name] = FromDefault
	})
	for k := range env {
		if !known[k] {
			cfg.UnknownEnv = append(cfg.UnknownEnv, k)
		}
	}
	sort.Strings(cfg.UnknownEnv)
	return cfg, errors.Join(errs...)
}

// readFile reads a YAML file into flag name -> value (a string or a list
// of strings), checking that every key names a flag of fs.
func (l Loader) readFile(path string, fs *pflag.FlagSet) (map[string]any, error) {
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
	skip := l.notConfig()
	for k := range out {
		if f := fs.Lookup(k); f == nil || skip[k] {
			return nil, fmt.Errorf("config file %s: unknown setting %q (no flag --%s; see %s)", path, k, k, l.PrintCommand)
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
