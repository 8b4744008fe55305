package embeddings

import "math"

// Every query has nearest neighbours, nonsense included, so a hybrid search
// counts a passage that shares no term with the query as a result only when
// it lies nearer than the model's similarity floor. Each model spreads
// similarities its own way: the static GloVe model puts a text with no
// word it knows at 0 (the zero vector) and a random in-vocabulary token at
// up to 0.6 from its nearest passage; a transformer puts anything at 0.3
// or more. So the floor belongs to the model, calibrated as
// docs/EMBEDDINGS.md ("Similarity floor") describes.

// calibratedFloors are the similarity floors measured per model
// ("provider/name"), on scifact/train and generated nonsense queries; see
// docs/EMBEDDINGS.md.
var calibratedFloors = map[string]float64{
	ProviderStatic + "/glove-6b-100d": 0.5,
}

// CalibratedFloor is the similarity floor measured for a model, and
// whether there is one.
func CalibratedFloor(m ModelInfo) (float64, bool) {
	f, ok := calibratedFloors[m.Provider+"/"+m.Name]
	return f, ok
}

// similarityFloor resolves Config.SimilarityFloor for model m. A model
// with no calibration gets 0: a query it cannot represent (the zero
// vector) or a passage pointing away from the query is never evidence, but
// anything nearer is, so junk can still come back; the log says so once.
func similarityFloor(cfg Config, m ModelInfo) float64 {
	switch {
	case cfg.SimilarityFloor < 0:
		return math.Inf(-1)
	case cfg.SimilarityFloor > 0:
		return cfg.SimilarityFloor
	}
	if f, ok := CalibratedFloor(m); ok {
		return f
	}
	cfg.Logger.Warn("the embedding model has no calibrated similarity floor: hybrid searches take any passage with a positive similarity as evidence, so nonsense queries can return results; measure the floor and set it (docs/EMBEDDINGS.md, \"Similarity floor\")", "model", m.Provider+"/"+m.Name)
	return 0
}

// SimilarityFloor is the cosine similarity a passage must exceed to count
// as evidence of relevance when no query term matches it
// (searcher.SimilarityFloorer); minus infinity when the floor is off.
func (p *Provider) SimilarityFloor() float64 { return p.floor }
