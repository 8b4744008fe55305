package main

import (
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/spf13/cobra"

	"github.com/cari-search/cari/server"
)

func newServeCmd(g *globalFlags) *cobra.Command {
	var stackF stackFlags
	var grpcAddr string
	var shutdownTimeout time.Duration
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the search and index APIs over gRPC",
		Long: `Serve opens the data directory and answers cari.v1.SearchService and
cari.v1.IndexService, with grpc.health.v1.Health and server reflection, until
SIGINT or SIGTERM; then it stops taking new requests, lets in-flight ones
finish (up to --shutdown-timeout) and closes the index cleanly.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log, err := g.logger()
			if err != nil {
				return err
			}
			st, err := openStack(cmd.Context(), stackF, log)
			if err != nil {
				return err
			}
			defer st.Close()
			lis, err := net.Listen("tcp", grpcAddr)
			if err != nil {
				return fmt.Errorf("--grpc-addr: %w", err)
			}
			srv, hs := server.NewGRPC(server.Options{
				Searcher:  st.searcher,
				Store:     st.store,
				StoreName: "local",
				Indexing:  st.indexing,
				Logger:    log,
			})
			served := make(chan error, 1)
			go func() { served <- srv.Serve(lis) }()
			log.Info("serving", "grpc_addr", lis.Addr().String(), "data", stackF.dataDir, "generation", st.store.Generation().Name)

			select {
			case err := <-served:
				return fmt.Errorf("grpc server: %w", err)
			case <-cmd.Context().Done():
			}
			log.Info("shutting down", "timeout", shutdownTimeout)
			hs.Shutdown() // health answers NOT_SERVING so load balancers drain us
			stopped := make(chan struct{})
			go func() { srv.GracefulStop(); close(stopped) }()
			select {
			case <-stopped:
			case <-time.After(shutdownTimeout):
				log.Warn("in-flight requests did not finish in time; closing them")
				srv.Stop()
			}
			if err := <-served; err != nil && !errors.Is(err, net.ErrClosed) {
				log.Warn("serve returned", "error", err)
			}
			return st.Close()
		},
	}
	stackF.register(cmd.Flags())
	cmd.Flags().StringVar(&grpcAddr, "grpc-addr", "127.0.0.1:7700", "gRPC listen address (host:port)")
	cmd.Flags().DurationVar(&shutdownTimeout, "shutdown-timeout", 10*time.Second, "how long in-flight requests may run after SIGINT/SIGTERM")
	return cmd
}
