package crawler

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strings"

	"github.com/cari-search/cari"
	"github.com/cari-search/cari/extract"
)

// scope is the validated form of the options that decide which URLs a
// crawl may fetch; together they identify a crawl job.
type scope struct {
	seeds    []string // canonical
	allowed  []string // normalised domains; nil: any
	include  []*regexp.Regexp
	exclude  []*regexp.Regexp
	maxDepth int
	policy   addressPolicy
}

// newScope validates the options. Errors are *cari.FieldError named as
// in cari.v1.CrawlRequest.
func newScope(o Options) (*scope, error) {
	s := &scope{maxDepth: o.depthLimit(), policy: addressPolicy{allowPrivate: o.AllowPrivate, allowed: o.AllowedNetworks}}
	if len(o.Seeds) == 0 {
		return nil, &cari.FieldError{Field: "seeds", Reason: "empty; give at least one URL to start from"}
	}
	if len(o.Seeds) > MaxSeeds {
		return nil, &cari.FieldError{Field: "seeds", Reason: fmt.Sprintf("at most %d seeds, got %d", MaxSeeds, len(o.Seeds))}
	}
	for i, raw := range o.Seeds {
		if len(raw) > cari.MaxURLBytes {
			return nil, &cari.FieldError{Field: fmt.Sprintf("seeds[%d]", i), Reason: fmt.Sprintf("longer than %d bytes", cari.MaxURLBytes)}
		}
		c, err := extract.Canonicalize(raw)
		if err != nil {
			return nil, &cari.FieldError{Field: fmt.Sprintf("seeds[%d]", i), Reason: fmt.Sprintf("%q: %v", raw, err)}
		}
		if !slices.Contains(s.seeds, c) {
			s.seeds = append(s.seeds, c)
		}
	}
	if o.MaxDepth > MaxDepthLimit {
		return nil, &cari.FieldError{Field: "max_depth", Reason: fmt.Sprintf("at most %d, got %d", MaxDepthLimit, o.MaxDepth)}
	}
	if len(o.AllowedDomains) > MaxAllowedDomains {
		return nil, &cari.FieldError{Field: "allowed_domains", Reason: fmt.Sprintf("at most %d entries, got %d", MaxAllowedDomains, len(o.AllowedDomains))}
	}
	anyDomain := false
	for i, d := range o.AllowedDomains {
		if d == "*" {
			anyDomain = true
			continue
		}
		n := cari.NormalizeDomain(strings.Trim(d, "[]"))
		_, ipErr := netip.ParseAddr(n)
		if n == "" || len(n) > 253 || (ipErr != nil && strings.ContainsAny(n, "/:?#@ ")) {
			return nil, &cari.FieldError{Field: fmt.Sprintf("allowed_domains[%d]", i), Reason: fmt.Sprintf("%q is not a host name (no scheme, port or path)", d)}
		}
		s.allowed = append(s.allowed, n)
	}
	if len(o.AllowedDomains) == 0 {
		for _, seed := range s.seeds {
			if d := cari.DomainOf(seed); !slices.Contains(s.allowed, d) {
				s.allowed = append(s.allowed, d)
			}
		}
	}
	if anyDomain {
		s.allowed = nil
	}
	var err error
	if s.include, err = compilePatterns("include_url_patterns", o.Include); err != nil {
		return nil, err
	}
	if s.exclude, err = compilePatterns("exclude_url_patterns", o.Exclude); err != nil {
		return nil, err
	}
	if len(o.Contact) > MaxContactBytes || strings.IndexFunc(o.Contact, func(r rune) bool { return r < 0x20 || r > 0x7e }) >= 0 {
		return nil, &cari.FieldError{Field: "user_agent_contact", Reason: fmt.Sprintf("at most %d bytes of printable ASCII", MaxContactBytes)}
	}
	return s, nil
}

func compilePatterns(field string, pats []string) ([]*regexp.Regexp, error) {
	if len(pats) > MaxURLPatterns {
		return nil, &cari.FieldError{Field: field, Reason: fmt.Sprintf("at most %d patterns, got %d", MaxURLPatterns, len(pats))}
	}
	var out []*regexp.Regexp
	for i, p := range pats {
		if len(p) > MaxPatternBytes {
			return nil, &cari.FieldError{Field: fmt.Sprintf("%s[%d]", field, i), Reason: fmt.Sprintf("longer than %d bytes", MaxPatternBytes)}
		}
		re, err := regexp.Compile(p)
		if err != nil {
			return nil, &cari.FieldError{Field: fmt.Sprintf("%s[%d]", field, i), Reason: err.Error()}
		}
		out = append(out, re)
	}
	return out, nil
}

// fingerprint identifies the crawl job: the same seeds and scope resume
// the same job. Politeness and limits (max pages, delays) may change
// between runs.
func (s *scope) fingerprint() string {
	v := struct {
		Seeds, Allowed, Include, Exclude []string
		MaxDepth                         int
		AllowPrivate                     bool
		Networks                         []string
	}{
		Seeds: slices.Sorted(slices.Values(s.seeds)), Allowed: slices.Sorted(slices.Values(s.allowed)),
		MaxDepth: s.maxDepth, AllowPrivate: s.policy.allowPrivate,
	}
	for _, re := range s.include {
		v.Include = append(v.Include, re.String())
	}
	for _, re := range s.exclude {
		v.Exclude = append(v.Exclude, re.String())
	}
	for _, p := range s.policy.allowed {
		v.Networks = append(v.Networks, p.String())
	}
	raw, _ := json.Marshal(v)
	sum := sha256.Sum256(raw)
	return hex.EncodeToString(sum[:])
}

// domainAllowed reports whether a canonical URL's host is in scope.
func (s *scope) domainAllowed(u string) bool {
	if s.allowed == nil {
		return true
	}
	d := cari.DomainOf(u)
	for _, a := range s.allowed {
		if d == a || strings.HasSuffix(d, "."+a) {
			return true
		}
	}
	return false
}

// patternsAllow applies the include and exclude patterns.
func (s *scope) patternsAllow(u string) bool {
	for _, re := range s.exclude {
		if re.MatchString(u) {
			return false
		}
	}
	if len(s.include) == 0 {
		return true
	}
	for _, re := range s.include {
		if re.MatchString(u) {
			return true
		}
	}
	return false
}
