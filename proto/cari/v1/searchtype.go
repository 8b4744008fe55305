package cariv1

// ShortName is the search type's short name ("auto", "keyword", "neural",
// "hybrid"), as the server's metrics label it and Exa's API writes it, so
// that both name a type the same way.
func (t SearchType) ShortName() string {
	switch t {
	case SearchType_SEARCH_TYPE_KEYWORD:
		return "keyword"
	case SearchType_SEARCH_TYPE_NEURAL:
		return "neural"
	case SearchType_SEARCH_TYPE_HYBRID:
		return "hybrid"
	}
	return "auto"
}
