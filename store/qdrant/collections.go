package qdrant

import (
	"context"
	"fmt"
)

// defaultCollection is store/catalog's Default, the Cari collection that
// keeps the names it had before collections existed (this package may not
// import the catalog, which knows no concrete store).
const defaultCollection = "default"

// CollectionAlias is the Qdrant alias that serves the Cari collection
// collection under the base alias: base itself for the default collection
// ("" or "default"), so that a deployment made before collections keeps
// its alias and generations, and base.collection for any other.
//
// A Cari collection's generations are the Qdrant collections ALIAS.first
// and ALIAS.TIME (the default's keep ALIAS-first and ALIAS-TIME), and a
// reindex builds under ALIAS.building. The dot is in no Cari name
// ([a-z0-9][a-z0-9_-]*) and Qdrant allows it in collection and alias names
// (it refuses only <>:"/\|?* and control characters: INVALID_CHARS in
// qdrant/qdrant lib/storage/src/content_manager/collections_ops.rs and
// lib/common/common/src/validation.rs), so no collection's alias or
// generation can be named like another's: with a "-" the collection
// "docs-first" would be served under the name of "docs"'s first
// generation, which Qdrant refuses as an alias (update_aliases checks
// validate_collection_not_exists on the alias name).
func CollectionAlias(base, collection string) string {
	if collection == "" || collection == defaultCollection {
		return base
	}
	return base + "." + collection
}

// collectionSep joins a collection's alias and its generations' suffixes.
func collectionSep(collection string) string {
	if collection == "" || collection == defaultCollection {
		return "-"
	}
	return "."
}

// named is the name of the alias's generation or alias suffix.
func (o Options) named(suffix string) string { return o.Alias + o.sep + suffix }

// Drop deletes every Qdrant collection of the Cari collection that opts
// name (opts.Collection, which must not be the default one): its serving,
// building and retired generations, and with them their aliases (Qdrant's
// delete_collection removes the aliases pointing at the collection it
// deletes: alias_persistence.remove_collection in
// lib/storage/src/content_manager/toc/collection_meta_ops.rs). It returns
// the collections it deleted; none is fine (a collection never opened has
// no generation yet), so a Drop cut short can be run again.
func Drop(ctx context.Context, opts Options) ([]string, error) {
	if collectionSep(opts.Collection) == "-" {
		return nil, fmt.Errorf("qdrant: the default collection cannot be dropped")
	}
	s, err := connect(opts)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	client, names, aliases, err := s.collections(ctx)
	if err != nil {
		return nil, err
	}
	serving, building := aliases[s.opts.Alias], aliases[s.buildingAlias()]
	var dropped []string
	for _, n := range names {
		if !s.isGeneration(n) && n != serving && n != building {
			continue
		}
		if err := client.DeleteCollection(ctx, n); err != nil {
			return dropped, fmt.Errorf("drop qdrant collection %s of %s: %w", n, s.opts.Alias, err)
		}
		dropped = append(dropped, n)
	}
	return dropped, nil
}
