package server

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"os"
	"strings"

	"go.yaml.in/yaml/v3"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	cariv1 "github.com/cari-search/cari/proto/cari/v1"
	"github.com/cari-search/cari/store/catalog"
)

// Scope is what an API key may call.
type Scope int

// Scopes, from least to most allowed.
const (
	// ScopeSearch may call cari.v1.SearchService and IndexService.GetStats.
	ScopeSearch Scope = iota + 1
	// ScopeAdmin may call everything, cari.v1.IndexService included.
	ScopeAdmin
)

func (s Scope) String() string {
	switch s {
	case ScopeSearch:
		return "search"
	case ScopeAdmin:
		return "admin"
	}
	return fmt.Sprintf("Scope(%d)", int(s))
}

// ParseScope parses "search" or "admin".
func ParseScope(s string) (Scope, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "search":
		return ScopeSearch, nil
	case "admin":
		return ScopeAdmin, nil
	}
	return 0, fmt.Errorf("scope must be search or admin, got %q", s)
}

// MinKeyLength is the shortest secret accepted as an API key, so that keys
// cannot be guessed by trying.
const MinKeyLength = 16

// Key is one API key.
type Key struct {
	// Name identifies the key in logs and metrics, which never show the
	// secret. Default: the scope and the first 8 hex digits of the
	// secret's SHA-256 ("search-1a2b3c4d").
	Name string `yaml:"name"`
	// Secret is what clients send. At least MinKeyLength bytes of
	// printable ASCII.
	Secret string `yaml:"key"`
	// Scope is what the key may call.
	Scope Scope `yaml:"-"`
	// Rate and Burst override the server's per-key rate limit for this
	// key when positive: Rate requests a second, Burst at once.
	Rate  float64 `yaml:"rate"`
	Burst int     `yaml:"burst"`
	// Collections, when set, are the only collections (or aliases) the
	// key may use; a request naming another answers PERMISSION_DENIED.
	Collections []string `yaml:"collections"`
}

// KeyName is the default Name of a key: its scope and a short hash of its
// secret, safe to log.
func KeyName(scope Scope, secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return scope.String() + "-" + hex.EncodeToString(sum[:4])
}

// keysFile is the layout of an API keys file.
type keysFile struct {
	Keys []struct {
		Key   `yaml:",inline"`
		Scope string `yaml:"scope"`
	} `yaml:"keys"`
}

// LoadKeysFile reads API keys from a YAML file:
//
//	keys:
//	  - name: web-frontend
//	    key: "a secret of at least 16 characters"
//	    scope: search        # search or admin
//	    rate: 50             # optional: requests a second for this key
//	    burst: 100           # optional
//	    collections: [docs]  # optional: the only collections it may use
//
// Unknown fields are errors, so a misspelt field does not silently leave a
// key unlimited.
func LoadKeysFile(path string) ([]Key, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("keys file: %w", err)
	}
	defer f.Close()
	dec := yaml.NewDecoder(f)
	dec.KnownFields(true)
	var kf keysFile
	if err := dec.Decode(&kf); err != nil {
		return nil, fmt.Errorf("keys file %s: %w", path, err)
	}
	keys := make([]Key, 0, len(kf.Keys))
	for i, k := range kf.Keys {
		scope, err := ParseScope(k.Scope)
		if err != nil {
			return nil, fmt.Errorf("keys file %s: key %d (%q): %w", path, i+1, k.Name, err)
		}
		k.Key.Scope = scope
		keys = append(keys, k.Key)
	}
	return keys, nil
}

// keyring holds the configured keys by the SHA-256 of their secrets.
type keyring struct {
	keys []storedKey
}

type storedKey struct {
	hash [sha256.Size]byte
	Key
}

func newKeyring(keys []Key) (*keyring, error) {
	kr := &keyring{}
	names := map[string]bool{}
	secrets := map[[sha256.Size]byte]bool{}
	for i, k := range keys {
		if k.Scope != ScopeSearch && k.Scope != ScopeAdmin {
			return nil, fmt.Errorf("API key %d: scope must be search or admin", i+1)
		}
		if len(k.Secret) < MinKeyLength {
			return nil, fmt.Errorf("API key %d (%s): must be at least %d characters, got %d", i+1, k.Name, MinKeyLength, len(k.Secret))
		}
		for _, c := range []byte(k.Secret) {
			if c <= ' ' || c > '~' {
				return nil, fmt.Errorf("API key %d (%s): only printable ASCII without spaces is allowed", i+1, k.Name)
			}
		}
		if k.Name == "" {
			k.Name = KeyName(k.Scope, k.Secret)
		}
		if names[k.Name] {
			return nil, fmt.Errorf("API key %d: name %q is used twice", i+1, k.Name)
		}
		h := sha256.Sum256([]byte(k.Secret))
		if secrets[h] {
			return nil, fmt.Errorf("API key %d (%s): the same secret is configured twice", i+1, k.Name)
		}
		names[k.Name], secrets[h] = true, true
		k.Secret = "" // only the hash is kept
		kr.keys = append(kr.keys, storedKey{hash: h, Key: k})
	}
	return kr, nil
}

// match finds the key whose secret is s. It compares the SHA-256 of s with
// every key's in constant time and never stops early, so timing reveals
// neither which key matched nor how much of a secret was right.
func (kr *keyring) match(s string) (Key, bool) {
	h := sha256.Sum256([]byte(s))
	found := -1
	for i := range kr.keys {
		if subtle.ConstantTimeCompare(h[:], kr.keys[i].hash[:]) == 1 {
			found = i
		}
	}
	if found < 0 {
		return Key{}, false
	}
	return kr.keys[found].Key, true
}

// Methods that need no key: health checks (load balancers, orchestrators)
// and reflection (the schema is public anyway, at /openapi.json).
var publicServices = map[string]bool{
	"grpc.health.v1.Health":                    true,
	"grpc.reflection.v1.ServerReflection":      true,
	"grpc.reflection.v1alpha.ServerReflection": true,
}

// searchScopeMethods are the methods outside SearchService that search keys
// may call: GetStats describes what there is to search (the search page
// shows it), reads nothing a search would not, and changes nothing.
var searchScopeMethods = map[string]bool{
	cariv1.IndexService_GetStats_FullMethodName:             true,
	cariv1.CollectionService_ListCollections_FullMethodName: true,
	cariv1.CollectionService_GetCollection_FullMethodName:   true,
	cariv1.CollectionService_ListAliases_FullMethodName:     true,
}

// scopeFor is the scope a method needs: search for SearchService and
// ResearchService (whose tasks only search), admin for
// IndexService (but GetStats) and anything not listed; 0 for public methods.
func scopeFor(fullMethod string) Scope {
	svc := serviceOf(fullMethod)
	switch {
	case publicServices[svc]:
		return 0
	case svc == "cari.v1.SearchService", svc == "cari.v1.ResearchService", searchScopeMethods[fullMethod]:
		return ScopeSearch
	}
	return ScopeAdmin
}

// serviceOf returns "pkg.Service" from "/pkg.Service/Method".
func serviceOf(fullMethod string) string {
	s := strings.TrimPrefix(fullMethod, "/")
	if i := strings.LastIndexByte(s, '/'); i >= 0 {
		return s[:i]
	}
	return s
}

// methodOf returns "Method" from "/pkg.Service/Method".
func methodOf(fullMethod string) string {
	return fullMethod[strings.LastIndexByte(fullMethod, '/')+1:]
}

// credential is the API key a call presents: the x-api-key metadata, or
// "authorization: Bearer KEY". HTTP clients send the same as headers.
func credential(ctx context.Context) (string, bool) {
	md, _ := metadata.FromIncomingContext(ctx)
	if v := md.Get("x-api-key"); len(v) > 0 && v[0] != "" {
		return v[0], true
	}
	for _, v := range md.Get("authorization") {
		scheme, token, ok := strings.Cut(v, " ")
		if ok && strings.EqualFold(scheme, "bearer") && strings.TrimSpace(token) != "" {
			return strings.TrimSpace(token), true
		}
	}
	return "", false
}

// authenticate checks the call's key against the method's scope. With no
// keys configured every call is allowed, as the anonymous caller.
func (kr *keyring) authenticate(ctx context.Context, fullMethod string) (Key, error) {
	need := scopeFor(fullMethod)
	if need == 0 || len(kr.keys) == 0 {
		return Key{}, nil
	}
	secret, ok := credential(ctx)
	if !ok {
		return Key{}, status.Error(codes.Unauthenticated, "missing API key: send it in the x-api-key header (or metadata), or as Authorization: Bearer KEY")
	}
	k, ok := kr.match(secret)
	if !ok {
		return Key{}, status.Error(codes.Unauthenticated, "invalid API key")
	}
	if k.Scope < need {
		return k, status.Errorf(codes.PermissionDenied, "API key %q has scope %s; %s needs an %s key", k.Name, k.Scope, serviceOf(fullMethod), need)
	}
	return k, nil
}

// KeyLists are API keys given as lists (flags, CARI_* variables) rather
// than in a keys file: the secrets of each scope, and the collections the
// keys of each scope are limited to (empty: all). A key with collections
// of its own, apart from the others of its scope, goes in the keys file.
type KeyLists struct {
	Search, Admin                       []string
	SearchCollections, AdminCollections []string
}

// Keys gathers a server's API keys: those of the keys file (when path is
// not empty), then the search and the admin secrets of lists, white space
// around each dropped.
func Keys(path string, lists KeyLists) ([]Key, error) {
	var keys []Key
	if path != "" {
		k, err := LoadKeysFile(path)
		if err != nil {
			return nil, err
		}
		keys = append(keys, k...)
	}
	for _, l := range []struct {
		scope                Scope
		secrets, collections []string
	}{{ScopeSearch, lists.Search, lists.SearchCollections}, {ScopeAdmin, lists.Admin, lists.AdminCollections}} {
		collections, err := keyCollections(l.collections)
		if err != nil {
			return nil, fmt.Errorf("collections of the %s keys: %w", l.scope, err)
		}
		for _, s := range l.secrets {
			keys = append(keys, Key{Secret: strings.TrimSpace(s), Scope: l.scope, Collections: collections})
		}
	}
	return keys, nil
}

// keyCollections checks the collection (or alias) names of a key list;
// none is nil, which limits a key to nothing.
func keyCollections(names []string) ([]string, error) {
	var out []string
	for _, n := range names {
		n = strings.TrimSpace(n)
		if err := catalog.CheckName(n); err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, nil
}
