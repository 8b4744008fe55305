package server

import (
	"errors"
	"strings"
	"testing"
)

func TestListenExposure(t *testing.T) {
	lis, err := Listen("127.0.0.1:0", false)
	if err != nil {
		t.Fatalf("loopback without keys: %v", err)
	}
	lis.Close()
	_, err = Listen("0.0.0.0:0", false)
	var exposed *ExposureError
	if !errors.As(err, &exposed) || !strings.Contains(err.Error(), "is not a loopback address and no API keys are configured") {
		t.Fatalf("a public address without keys gives %v, want an ExposureError", err)
	}
	if lis, err = Listen("0.0.0.0:0", true); err != nil {
		t.Fatalf("a guarded public address: %v", err)
	}
	lis.Close()
	if _, err := Listen("127.0.0.1:notaport", true); err == nil || errors.As(err, &exposed) {
		t.Errorf("a bad address gives %v, want the listen error", err)
	}
}

func TestKeys(t *testing.T) {
	keys, err := Keys("", []string{" search-0123456789abcdef "}, []string{"admin-0123456789abcdef"})
	if err != nil || len(keys) != 2 || keys[0].Secret != "search-0123456789abcdef" || keys[0].Scope != ScopeSearch || keys[1].Scope != ScopeAdmin {
		t.Errorf("Keys = %+v, %v", keys, err)
	}
	if _, err := Keys("testdata/absent-keys.yaml", nil, nil); err == nil {
		t.Error("a missing keys file was accepted")
	}
}
