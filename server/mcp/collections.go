package mcp

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	cariv1 "github.com/cari-search/cari/proto/cari/v1"
)

// collectionURIPrefix starts the URI of each collection's resource,
// cari://collections/NAME (an alias reads as its collection).
const collectionURIPrefix = "cari://collections/"

// Collection describes one collection as the collections tool and its
// resource show it: what a model needs to pick the collection argument.
type Collection struct {
	Name    string   `json:"name"`
	URI     string   `json:"uri"`
	Aliases []string `json:"aliases,omitempty"`
	// Documents and Chunks count the serving generation; Chunks and Store
	// only when the collection is read as a resource.
	Documents int64 `json:"documents"`
	Chunks    int64 `json:"chunks,omitempty"`
	// EmbeddingModel is the model of the collection's vectors
	// ("local/NAME", "openai/NAME"); empty when it holds none.
	EmbeddingModel string             `json:"embeddingModel,omitempty"`
	Store          string             `json:"store,omitempty"`
	Settings       CollectionSettings `json:"settings"`
	Created        string             `json:"created,omitempty"`
	// Unavailable says why the counts are missing: the server could not
	// open the collection.
	Unavailable string `json:"unavailable,omitempty"`
}

// CollectionSettings are a collection's own choices; empty fields are the
// server's defaults.
type CollectionSettings struct {
	Language     string   `json:"language,omitempty"`
	Embedder     string   `json:"embedder,omitempty"`
	EmbedModel   string   `json:"embedModel,omitempty"`
	Reranker     string   `json:"reranker,omitempty"`
	URLTemplate  string   `json:"urlTemplate,omitempty"`
	BM25K1       *float64 `json:"bm25K1,omitempty"`
	BM25B        *float64 `json:"bm25B,omitempty"`
	MaxDocuments int64    `json:"maxDocuments,omitempty"`
}

// Collections is the structured output of the collections tool.
type Collections struct {
	Collections []Collection `json:"collections"`
}

// CollectionsInput is the collections tool's arguments: none.
type CollectionsInput struct{}

const collectionsDescription = "List the document collections this Cari server holds (each a separate index, e.g. product docs, a support " +
	"knowledge base, a web crawl), with their aliases, document counts and embedding models. Call it when the user names a corpus or " +
	"when results from the default collection are off-topic, then pass the collection's name to search, contents, find_similar or answer."

// getProto reads a /v1/ answer of the server into out.
func (e exaCaller) getProto(ctx context.Context, extra *sdk.RequestExtra, path string, out proto.Message) error {
	data, err := e.do(ctx, extra, http.MethodGet, path, nil)
	if err != nil {
		return err
	}
	if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(data, out); err != nil {
		return fmt.Errorf("decode %s: %w", path, err)
	}
	return nil
}

// collections lists the collections the caller's key may use, each with
// its document count and model as ListCollections gives them.
func (s *Server) collections(ctx context.Context, extra *sdk.RequestExtra) ([]Collection, error) {
	var list cariv1.ListCollectionsResponse
	if err := s.exa.getProto(ctx, extra, "/v1/collections", &list); err != nil {
		return nil, fmt.Errorf("list collections: %w", err)
	}
	out := make([]Collection, 0, len(list.GetCollections()))
	for _, c := range list.GetCollections() {
		out = append(out, describe(c))
	}
	return out, nil
}

// collection describes the collection name names (a collection or an
// alias), with its chunks and store from its statistics.
func (s *Server) collection(ctx context.Context, extra *sdk.RequestExtra, name string) (Collection, error) {
	var c cariv1.Collection
	if err := s.exa.getProto(ctx, extra, "/v1/collections/"+url.PathEscape(name), &c); err != nil {
		return Collection{}, err
	}
	out := describe(&c)
	var stats cariv1.GetStatsResponse
	if err := s.exa.getProto(ctx, extra, "/v1/stats?collection="+url.QueryEscape(c.GetName()), &stats); err != nil {
		out.Unavailable = err.Error()
		return out, nil
	}
	out.Documents, out.Chunks, out.Store, out.Unavailable = stats.GetDocuments(), stats.GetChunks(), stats.GetStore(), ""
	return out, nil
}

// describe turns the API's collection into the tools' shape.
func describe(c *cariv1.Collection) Collection {
	st := c.GetSettings()
	out := Collection{
		Name: c.GetName(), URI: collectionURIPrefix + c.GetName(), Aliases: c.GetAliases(), Documents: c.GetDocumentCount(),
		Settings: CollectionSettings{
			Language: st.GetLanguage(), Embedder: st.GetEmbedder(), EmbedModel: st.GetEmbedModel(), Reranker: st.GetReranker(),
			URLTemplate: st.GetUrlTemplate(), BM25K1: st.Bm25K1, BM25B: st.Bm25B, MaxDocuments: st.GetMaxDocuments(),
		},
	}
	if c.DocumentCount == nil {
		out.Unavailable = "the server could not open it to count its documents (its log says why)"
	}
	if m := c.GetEmbeddingModel(); m != nil {
		out.EmbeddingModel = m.GetProvider() + "/" + m.GetName()
	}
	if c.CreateTime != nil {
		out.Created = c.GetCreateTime().AsTime().UTC().Format(time.RFC3339)
	}
	return out
}

func (s *Server) collectionsTool(ctx context.Context, req *sdk.CallToolRequest, _ CollectionsInput) (*sdk.CallToolResult, Collections, error) {
	cs, err := s.collections(ctx, extraOf(req))
	if err != nil {
		return nil, Collections{}, err
	}
	var b strings.Builder
	for _, c := range cs {
		b.WriteString(c.line())
		b.WriteString("\n")
	}
	return &sdk.CallToolResult{Content: []sdk.Content{&sdk.TextContent{Text: strings.TrimRight(b.String(), "\n")}}}, Collections{cs}, nil
}

// line is c in a line a model reads: name, aliases, size, model.
func (c Collection) line() string {
	var b strings.Builder
	b.WriteString(c.Name)
	if len(c.Aliases) > 0 {
		fmt.Fprintf(&b, " (aliases: %s)", strings.Join(c.Aliases, ", "))
	}
	if c.Unavailable != "" {
		fmt.Fprintf(&b, ": unavailable: %s", c.Unavailable)
		return b.String()
	}
	fmt.Fprintf(&b, ": %d documents", c.Documents)
	if c.EmbeddingModel != "" {
		fmt.Fprintf(&b, ", embeddings %s", c.EmbeddingModel)
	} else {
		b.WriteString(", keyword search only")
	}
	return b.String()
}

// addCollectionResources exposes the collections as resources: a template
// cari://collections/{name} that reads any collection or alias, and a
// listing of the caller's collections, made at each resources/list since
// collections come and go and keys see different ones.
func (s *Server) addCollectionResources(srv *sdk.Server) {
	srv.AddResourceTemplate(&sdk.ResourceTemplate{
		Name: "collection", Title: "Cari collection", URITemplate: collectionURIPrefix + "{name}", MIMEType: "application/json",
		Description: "A collection of indexed documents (or an alias of one): its document count, embedding model and settings. " +
			"Pass its name as the collection argument of the search tools.",
	}, s.readCollection)
	srv.AddReceivingMiddleware(func(next sdk.MethodHandler) sdk.MethodHandler {
		return func(ctx context.Context, method string, req sdk.Request) (sdk.Result, error) {
			if method != "resources/list" {
				return next(ctx, method, req)
			}
			cs, err := s.collections(ctx, req.GetExtra())
			if err != nil {
				return nil, err
			}
			res := &sdk.ListResourcesResult{Resources: make([]*sdk.Resource, 0, len(cs))}
			for _, c := range cs {
				res.Resources = append(res.Resources, &sdk.Resource{
					URI: c.URI, Name: c.Name, Title: "Collection " + c.Name, MIMEType: "application/json", Description: c.line(),
				})
			}
			return res, nil
		}
	})
}

func (s *Server) readCollection(ctx context.Context, req *sdk.ReadResourceRequest) (*sdk.ReadResourceResult, error) {
	uri := req.Params.URI
	name, err := url.PathUnescape(strings.TrimPrefix(uri, collectionURIPrefix))
	if err != nil || name == "" || !strings.HasPrefix(uri, collectionURIPrefix) {
		return nil, sdk.ResourceNotFoundError(uri)
	}
	c, err := s.collection(ctx, req.Extra, name)
	if err != nil {
		return nil, err
	}
	data, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return nil, err
	}
	return &sdk.ReadResourceResult{Contents: []*sdk.ResourceContents{{URI: uri, MIMEType: "application/json", Text: string(data)}}}, nil
}
