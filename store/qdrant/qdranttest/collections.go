package qdranttest

import (
	"context"
	"fmt"
	"maps"
	"sort"
	"strings"

	"github.com/qdrant/go-client/qdrant"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// collection is one collection's schema and points.
type collection struct {
	name     string
	dense    map[string]*qdrant.VectorParams
	sparse   map[string]*qdrant.SparseVectorParams
	metadata map[string]*qdrant.Value
	indexes  map[string]qdrant.FieldType
	points   map[string]*point // by pointKey
	create   *qdrant.CreateCollection
}

// point is one stored point; vectors hold normalized copies for cosine.
type point struct {
	id      *qdrant.PointId
	payload map[string]*qdrant.Value
	dense   map[string][][]float32 // one vector, or a multivector's
	sparse  map[string]map[uint32]float32
	order   int // insertion order, for scroll
}

func ok() *qdrant.CollectionOperationResponse {
	return &qdrant.CollectionOperationResponse{Result: true}
}

// Create makes a collection with named dense (or multi) and sparse vectors.
func (s collectionsAPI) Create(_ context.Context, r *qdrant.CreateCollection) (*qdrant.CollectionOperationResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r.GetCollectionName() == "" {
		return nil, invalid("collection_name: must not be empty")
	}
	// Qdrant refuses these characters in a collection name and no others
	// (validate_collection_name, INVALID_CHARS, in
	// lib/common/common/src/validation.rs; is_valid_collection_name in
	// lib/storage/src/content_manager/collections_ops.rs): Cari's names
	// for a collection's generations (qdrant.CollectionAlias) use a dot.
	if i := strings.IndexAny(r.GetCollectionName(), "<>:\"/\\|?*\x00\x1f"); i >= 0 {
		return nil, invalid("collection_name: collection name cannot contain %q char", r.GetCollectionName()[i])
	}
	// Qdrant creates a name once: under its collection_create_lock it
	// refuses a name taken by a collection with ALREADY_EXISTS (since
	// 1.8, qdrant/qdrant#3422; before, INVALID_ARGUMENT), and one taken by
	// an alias (lib/storage/src/content_manager/toc/create_collection.rs,
	// collections_ops.rs validate_collection_not_exists). Cari's first
	// generation relies on it to have one creator.
	if _, exists := s.collections[r.GetCollectionName()]; exists {
		return nil, status.Errorf(codes.AlreadyExists, "Wrong input: Collection `%s` already exists!", r.GetCollectionName())
	}
	if _, exists := s.aliases[r.GetCollectionName()]; exists {
		return nil, invalid("Wrong input: Can't create collection with name %s. Alias with the same name already exists", r.GetCollectionName())
	}
	c := &collection{
		name: r.GetCollectionName(), dense: map[string]*qdrant.VectorParams{}, sparse: map[string]*qdrant.SparseVectorParams{},
		metadata: map[string]*qdrant.Value{}, indexes: map[string]qdrant.FieldType{}, points: map[string]*point{},
		create: proto.Clone(r).(*qdrant.CreateCollection),
	}
	if p := r.GetVectorsConfig().GetParams(); p != nil {
		c.dense[""] = p
	}
	for name, p := range r.GetVectorsConfig().GetParamsMap().GetMap() {
		if p.GetSize() == 0 {
			return nil, invalid("vectors_config.%s.size: must be positive", name)
		}
		if p.GetDistance() != qdrant.Distance_Cosine {
			return nil, status.Errorf(codes.Unimplemented, "qdranttest implements cosine distance only, %s asks for %v", name, p.GetDistance())
		}
		c.dense[name] = p
	}
	for name, p := range r.GetSparseVectorsConfig().GetMap() {
		c.sparse[name] = p
	}
	for k, v := range r.GetMetadata() {
		c.metadata[k] = v
	}
	s.collections[c.name] = c
	return ok(), nil
}

// Get describes a collection.
func (s collectionsAPI) Get(_ context.Context, r *qdrant.GetCollectionInfoRequest) (*qdrant.GetCollectionInfoResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.lookup(r.GetCollectionName())
	if err != nil {
		return nil, err
	}
	n := uint64(len(c.points))
	cr := c.create
	return &qdrant.GetCollectionInfoResponse{Result: &qdrant.CollectionInfo{
		Status:      qdrant.CollectionStatus_Green,
		PointsCount: &n,
		Config: &qdrant.CollectionConfig{
			Params: &qdrant.CollectionParams{
				ShardNumber: cr.GetShardNumber(), ReplicationFactor: cr.ReplicationFactor,
				VectorsConfig: cr.GetVectorsConfig(), SparseVectorsConfig: cr.GetSparseVectorsConfig(),
			},
			Metadata: maps.Clone(c.metadata), // marshalled after the lock is released
		},
	}}, nil
}

// Update merges metadata into a collection's.
func (s collectionsAPI) Update(_ context.Context, r *qdrant.UpdateCollection) (*qdrant.CollectionOperationResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.lookup(r.GetCollectionName())
	if err != nil {
		return nil, err
	}
	for k, v := range r.GetMetadata() {
		c.metadata[k] = v
	}
	return ok(), nil
}

// Delete drops a collection and the aliases pointing to it, as Qdrant's
// delete_collection does (alias_persistence.remove_collection, in
// lib/storage/src/content_manager/toc/collection_meta_ops.rs), answering
// false, not an error, for a collection that does not exist.
func (s collectionsAPI) Delete(_ context.Context, r *qdrant.DeleteCollection) (*qdrant.CollectionOperationResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, exists := s.collections[r.GetCollectionName()]; !exists {
		return &qdrant.CollectionOperationResponse{Result: false}, nil
	}
	delete(s.collections, r.GetCollectionName())
	for a, target := range s.aliases {
		if target == r.GetCollectionName() {
			delete(s.aliases, a)
		}
	}
	return ok(), nil
}

// CollectionExists reports whether a collection (not an alias) exists.
func (s collectionsAPI) CollectionExists(_ context.Context, r *qdrant.CollectionExistsRequest) (*qdrant.CollectionExistsResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, exists := s.collections[r.GetCollectionName()]
	return &qdrant.CollectionExistsResponse{Result: &qdrant.CollectionExists{Exists: exists}}, nil
}

// UpdateAliases applies alias changes as Qdrant does
// (lib/storage/src/content_manager/toc/collection_meta_ops.rs,
// update_aliases, lines 298-338 in v1.18.0): atomically for readers, who
// see the aliases before the request or after it (it holds the
// collections' write lock throughout), but not all or nothing: the actions
// run in order, each saved as it runs, and the first that fails ends the
// request with an error, the ones before it kept. A request [delete A,
// create A -> missing] therefore leaves A deleted. Creating an alias that
// exists points it at the new collection, without error
// (AliasPersistence::insert in lib/storage/src/content_manager/
// alias_mapping.rs is a map insert); an alias may not take a collection's
// name.
func (s collectionsAPI) UpdateAliases(_ context.Context, r *qdrant.ChangeAliases) (*qdrant.CollectionOperationResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	aliases := s.aliases // changed in place: what ran before a failure stays
	for i, op := range r.GetActions() {
		switch {
		case op.GetCreateAlias() != nil:
			a := op.GetCreateAlias()
			if _, exists := s.collections[a.GetCollectionName()]; !exists {
				return nil, status.Errorf(codes.NotFound, "actions[%d]: collection `%s` doesn't exist", i, a.GetCollectionName())
			}
			if _, exists := s.collections[a.GetAliasName()]; exists {
				return nil, status.Errorf(codes.AlreadyExists, "Wrong input: Collection `%s` already exists!", a.GetAliasName())
			}
			aliases[a.GetAliasName()] = a.GetCollectionName()
		case op.GetDeleteAlias() != nil:
			if _, exists := aliases[op.GetDeleteAlias().GetAliasName()]; !exists {
				return nil, status.Errorf(codes.NotFound, "actions[%d]: alias `%s` doesn't exist", i, op.GetDeleteAlias().GetAliasName())
			}
			delete(aliases, op.GetDeleteAlias().GetAliasName())
		case op.GetRenameAlias() != nil:
			rn := op.GetRenameAlias()
			target, exists := aliases[rn.GetOldAliasName()]
			if !exists {
				return nil, status.Errorf(codes.NotFound, "actions[%d]: alias `%s` doesn't exist", i, rn.GetOldAliasName())
			}
			delete(aliases, rn.GetOldAliasName())
			aliases[rn.GetNewAliasName()] = target
		default:
			return nil, invalid("actions[%d]: empty alias operation", i)
		}
	}
	return ok(), nil
}

// ListAliases lists every alias.
func (s collectionsAPI) ListAliases(context.Context, *qdrant.ListAliasesRequest) (*qdrant.ListAliasesResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := &qdrant.ListAliasesResponse{}
	for a, c := range s.aliases {
		out.Aliases = append(out.Aliases, &qdrant.AliasDescription{AliasName: a, CollectionName: c})
	}
	sort.Slice(out.Aliases, func(i, j int) bool { return out.Aliases[i].AliasName < out.Aliases[j].AliasName })
	return out, nil
}

// List lists the collections.
func (s collectionsAPI) List(context.Context, *qdrant.ListCollectionsRequest) (*qdrant.ListCollectionsResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := &qdrant.ListCollectionsResponse{}
	for name := range s.collections {
		out.Collections = append(out.Collections, &qdrant.CollectionDescription{Name: name})
	}
	sort.Slice(out.Collections, func(i, j int) bool { return out.Collections[i].Name < out.Collections[j].Name })
	return out, nil
}

// CreateFieldIndex records a payload index; filters work without one, as
// in Qdrant, but facets need one.
func (s pointsAPI) CreateFieldIndex(_ context.Context, r *qdrant.CreateFieldIndexCollection) (*qdrant.PointsOperationResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.lookup(r.GetCollectionName())
	if err != nil {
		return nil, err
	}
	if r.FieldType == nil {
		return nil, invalid("field_type: required")
	}
	c.indexes[r.GetFieldName()] = r.GetFieldType()
	return completed(), nil
}

// Create records a snapshot of a collection; the double keeps no data for
// it.
func (s snapshotsAPI) Create(_ context.Context, r *qdrant.CreateSnapshotRequest) (*qdrant.CreateSnapshotResponse, error) {
	name := r.GetCollectionName()
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.lookup(name)
	if err != nil {
		return nil, err
	}
	s.snapshots++
	return &qdrant.CreateSnapshotResponse{SnapshotDescription: &qdrant.SnapshotDescription{
		Name: fmt.Sprintf("%s-%d.snapshot", c.name, s.snapshots),
	}}, nil
}
