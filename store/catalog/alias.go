package catalog

import (
	"fmt"
)

// AliasAction is one change of UpdateAliases: point Alias at Collection
// (creating the alias, or moving it), or with Delete remove Alias.
type AliasAction struct {
	Alias      string `json:"alias"`
	Collection string `json:"collection,omitempty"`
	Delete     bool   `json:"delete,omitempty"`
}

// UpdateAliases applies actions in order as one change: every action is
// checked against the aliases the ones before it leave, and either all of
// them take effect, in one atomic replacement of the catalog, or none does.
// A search that resolves an alias sees it before or after, never between
// (Elasticsearch's _aliases and Qdrant's update_aliases work so).
// The error of a refused action names its index in actions.
func (c *Catalog) UpdateAliases(actions []AliasAction) error {
	if len(actions) == 0 {
		return fmt.Errorf("actions: empty: nothing to change")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	next := c.rec.clone()
	for i, a := range actions {
		if err := next.apply(a); err != nil {
			return fmt.Errorf("actions[%d]: %w", i, err)
		}
	}
	return c.commit(next)
}

// apply makes one alias action on r.
func (r record) apply(a AliasAction) error {
	if err := CheckName(a.Alias); err != nil {
		return fmt.Errorf("alias: %w", err)
	}
	if a.Delete {
		if _, ok := r.Aliases[a.Alias]; !ok {
			return fmt.Errorf("alias %q: %w", a.Alias, ErrNotFound)
		}
		delete(r.Aliases, a.Alias)
		return nil
	}
	if _, ok := r.Collections[a.Alias]; ok {
		return fmt.Errorf("alias %q: %w (a collection)", a.Alias, ErrExists)
	}
	if _, ok := r.Collections[a.Collection]; !ok {
		if target, ok := r.Aliases[a.Collection]; ok {
			return fmt.Errorf("collection %q is an alias (of %s): an alias points at a collection", a.Collection, target)
		}
		return fmt.Errorf("collection %q: %w", a.Collection, ErrNotFound)
	}
	r.Aliases[a.Alias] = a.Collection
	return nil
}

// AliasActions makes the actions of cari collections alias: pairs (ALIAS
// COLLECTION) pointing aliases at collections, then the aliases in deleted
// removed.
func AliasActions(pairs, deleted []string) ([]AliasAction, error) {
	if len(pairs)%2 != 0 {
		return nil, fmt.Errorf("give pairs of ALIAS COLLECTION; %q has no collection", pairs[len(pairs)-1])
	}
	var out []AliasAction
	for i := 0; i < len(pairs); i += 2 {
		out = append(out, AliasAction{Alias: pairs[i], Collection: pairs[i+1]})
	}
	for _, a := range deleted {
		out = append(out, AliasAction{Alias: a, Delete: true})
	}
	return out, nil
}
