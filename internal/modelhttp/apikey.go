package modelhttp

import (
	"os"
	"strings"
)

// LoadAPIKey reads the API key of a server Cari calls (a model server,
// Qdrant, a cari serve) from file when one is named, else from the
// environment variable env; white space around it is dropped. Keys never
// come from a flag, where process listings would show them. No key is not
// an error: local servers rarely want one. The error of an unreadable file
// is returned as it is, for the caller to name the setting.
func LoadAPIKey(file, env string) (string, error) {
	if file == "" {
		return strings.TrimSpace(os.Getenv(env)), nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(b)), nil
}
