package cariv1

import (
	"crypto/rand"
	"encoding/hex"
)

// NewRequestID returns a request_id as the server assigns it: 16 random
// bytes in hex. It lives beside the API so that the server and the Exa
// endpoints (which fail some requests before they reach the server) name
// requests alike.
func NewRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
