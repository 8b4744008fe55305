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

// ListenError is ListenBoth's error: which address failed, and why.
type ListenError struct {
	// HTTP is set when the HTTP address failed, else the gRPC one did.
	HTTP bool
	Err  error
}

func (e *ListenError) Error() string {
	if e.HTTP {
		return "http address: " + e.Err.Error()
	}
	return "grpc address: " + e.Err.Error()
}

func (e *ListenError) Unwrap() error { return e.Err }

// ListenBoth opens the gRPC listener on grpcAddr and the HTTP one on
// httpAddr, each as Listen does; httpAddr "" or "off" turns HTTP off (a
// nil listener). On an error no listener is left open.
func ListenBoth(grpcAddr, httpAddr string, guarded bool) (grpcLis, httpLis net.Listener, err error) {
	if grpcLis, err = Listen(grpcAddr, guarded); err != nil {
		return nil, nil, &ListenError{Err: err}
	}
	if httpAddr == "" || httpAddr == "off" {
		return grpcLis, nil, nil
	}
	if httpLis, err = Listen(httpAddr, guarded); err != nil {
		grpcLis.Close()
		return nil, nil, &ListenError{HTTP: true, Err: err}
	}
	return grpcLis, httpLis, nil
}
