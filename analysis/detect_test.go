package analysis

import (
	"runtime"
	"testing"
	"time"

	"github.com/cari-search/cari/analysis/internal/lingua"
)

func TestDetect(t *testing.T) {
	d := NewDetector()
	for _, tc := range []struct {
		text     string
		language string
		sure     bool
	}{
		{"The patient was treated with antibiotics after the surgery and recovered within two weeks.", English, true},
		{"Presiden pertama Indonesia adalah Soekarno, yang memproklamasikan kemerdekaan pada tahun 1945.", Indonesian, true},
		{"北京是中华人民共和国的首都，也是全国的政治和文化中心。", Chinese, true},
		{"東京は日本の首都であり、世界でも有数の大都市です。", Japanese, true},
		{"서울은 대한민국의 수도이다.", Korean, true},
		{"Soekarno", Indonesian, false}, // a short Latin query is never sure
		{"北京", Chinese, true},
		{"", "", false},
		{"12345 !!!", "", false},
	} {
		got := d.DetectQuery(tc.text)
		if got.Language != tc.language || got.Sure != tc.sure {
			t.Errorf("DetectQuery(%q) = %+v, want language %q sure %v", tc.text, got, tc.language, tc.sure)
		}
	}
}

// TestDetectorFootprint measures what loading the detector costs: the heap
// its five languages' models take and the time to load them (run it alone,
// -run TestDetectorFootprint, so that it is the first to load them). It
// guards against loading more languages than Cari analyses: all 75 of
// lingua's would take several hundred MiB.
func TestDetectorFootprint(t *testing.T) {
	if detector != nil {
		t.Skip("the detector was loaded by an earlier test; run this one alone")
	}
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	NewDetector()
	took := time.Since(start)
	runtime.GC()
	runtime.ReadMemStats(&after)
	mib := float64(after.HeapAlloc-before.HeapAlloc) / (1 << 20)
	t.Logf("detector models: %.1f MiB of heap, loaded in %v", mib, took)
	if mib > 64 {
		t.Errorf("the detector's models take %.1f MiB, more than the five languages' 32 MiB or so", mib)
	}
}

// TestDetectableLanguagesHaveModels: Cari's copy of lingua embeds the models
// of the languages it analyses only (analysis/internal/lingua/README.md). A
// language added to detectable without its models would never be detected,
// and without a failing test nobody would notice; English stands for a
// language whose models are there, Malay for one whose are not.
func TestDetectableLanguagesHaveModels(t *testing.T) {
	for _, l := range detectable {
		if !lingua.HasLanguageModels(l) {
			t.Errorf("%v is detectable but its models are not embedded in analysis/internal/lingua/language-models", l)
		}
	}
	if lingua.HasLanguageModels(lingua.Malay) {
		t.Error("Malay's models are embedded: the binary carries models Cari never uses")
	}
}
