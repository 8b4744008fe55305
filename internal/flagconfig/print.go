package flagconfig

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/pflag"
	"go.yaml.in/yaml/v3"
)

const (
	// secretAnnotation marks a flag whose value Print masks.
	secretAnnotation = "flagconfig/secret"
	// mask stands for a secret in Print's output.
	mask = "********"
)

// MarkSecret marks flags whose values are secrets (API keys, tokens):
// Print prints them masked.
func MarkSecret(fs *pflag.FlagSet, names ...string) {
	for _, n := range names {
		if err := fs.SetAnnotation(n, secretAnnotation, []string{"true"}); err != nil {
			panic(fmt.Sprintf("MarkSecret: %v", err)) // a flag name typo in the code
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

// Print writes the effective configuration of fs as a YAML config file,
// each setting with its help above it and its source beside it, secrets
// masked; what names the command configured ("cari serve").
func (c *Config) Print(w io.Writer, fs *pflag.FlagSet, what string) error {
	root := &yaml.Node{Kind: yaml.MappingNode}
	fs.VisitAll(func(f *pflag.Flag) {
		if c.skip[f.Name] {
			return
		}
		key := &yaml.Node{Kind: yaml.ScalarNode, Value: f.Name, HeadComment: f.Usage}
		src := c.Source[f.Name]
		switch src {
		case FromEnv:
			src += " " + Loader{Prefix: c.prefix}.EnvName(f.Name)
		case "":
			src = FromDefault
		}
		val := valueNode(f)
		val.LineComment = src
		root.Content = append(root.Content, key, val)
	})
	file := c.File
	if file == "" {
		file = "none"
	}
	doc := &yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{root}, HeadComment: fmt.Sprintf(
		"Effective configuration of %s. Precedence: flag > environment (%s<FLAG>) > config file > default.\nConfig file: %s", what, c.prefix, file)}
	enc := yaml.NewEncoder(w)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return err
	}
	if len(c.UnknownEnv) > 0 {
		fmt.Fprintf(w, "# Unknown environment variables, ignored: %s\n", strings.Join(c.UnknownEnv, ", "))
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
