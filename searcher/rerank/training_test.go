package rerank

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/cari-search/cari"
	"github.com/cari-search/cari/evaluation"
	"github.com/cari-search/cari/searcher"
)

// TestTraining fits a model on what the first stage retrieves for labelled
// queries, reporting the cross-validation and the weights, and names the
// training data in the model.
func TestTraining(t *testing.T) {
	var qrels evaluation.Qrels
	qrels.Add("diet", "food", 1)
	qrels.Add("song", "song", 1)
	qrels.Add("size", "size", 1)
	qrels.Add("blue", "size", 1)
	fit := DefaultFitOptions()
	fit.Train.Epochs = 20 // enough to fit four queries; the recipe's own count is tested by Fit's tests
	tr := Training{
		Mode: "keyword", Candidates: 3, Folds: 2, Fit: fit, Source: "train.jsonl",
		Queries: []evaluation.Query{{ID: "diet", Text: "whale krill"}, {ID: "song", Text: "whale sings"}, {ID: "size", Text: "largest whale"}, {ID: "blue", Text: "blue whale"}},
		Qrels:   qrels,
	}
	var out bytes.Buffer
	m, err := tr.Train(t.Context(), searcher.New(oceanStore(t), searcher.Options{}), &out)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(m.TrainedOn, "train.jsonl keyword top-3, ") || len(m.Weights) != len(m.Features) {
		t.Errorf("model trained on %q with %d weights for %d features", m.TrainedOn, len(m.Weights), len(m.Features))
	}
	for _, want := range []string{"2-fold cross-validation", "trained on 4 queries (train.jsonl keyword top-3", "weights:\n  "} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report %q lacks %q", out.String(), want)
		}
	}
	var fe *cari.FieldError
	if err := (Training{Mode: "neural"}).Validate(); !errors.As(err, &fe) || fe.Field != "mode" {
		t.Errorf("Validate of a neural first stage: %v, want a FieldError naming mode", err)
	}
}
