package lingua

import "strings"

// HasLanguageModels reports whether language's models are embedded. Cari's
// copy embeds only the languages it analyses (README.md); a detector built
// with any other language would silently give it no probability at all, so
// Cari checks its languages with this. Every language upstream has a unigram
// model (Chinese, Japanese and Korean have nothing else, their words being
// single characters), so that file stands for the language's models.
func HasLanguageModels(language Language) bool {
	isoCode := strings.ToLower(language.IsoCode639_1().String())
	_, err := languageModels.Open("language-models/" + isoCode + "/unigrams.pb.bin.zip")
	return err == nil
}
