package server

import (
	"fmt"
	"net"
)

// ExposureError is Listen's refusal of an address other machines can
// reach while no API keys guard the server.
type ExposureError struct {
	Addr net.Addr
}

func (e *ExposureError) Error() string {
	return fmt.Sprintf("%s is not a loopback address and no API keys are configured, so anyone who can reach it could search and change the index", e.Addr)
}

// Listen opens a TCP listener on addr. Unless guarded (API keys are
// configured, or the operator said the server may be public), it refuses
// with an *ExposureError an address that is not loopback: a server
// without keys lets anyone who reaches it change the index.
func Listen(addr string, guarded bool) (net.Listener, error) {
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	if a, ok := lis.Addr().(*net.TCPAddr); guarded || (ok && a.IP.IsLoopback()) {
		return lis, nil
	}
	lis.Close()
	return nil, &ExposureError{Addr: lis.Addr()}
}
