package server

import (
	"context"
	"errors"
	"log/slog"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/cari-search/cari"
	"github.com/cari-search/cari/searcher"
	"github.com/cari-search/cari/store"
	"github.com/cari-search/cari/store/catalog"
)

// statusOf chooses the gRPC status for an error from the stages below. Only
// here do errors become codes: a field error is INVALID_ARGUMENT with a
// BadRequest detail naming the field; anything unexpected is INTERNAL and
// logged.
func statusOf(ctx context.Context, log *slog.Logger, method string, err error) error {
	if err == nil {
		return nil
	}
	if _, ok := status.FromError(err); ok {
		return err
	}
	var fe *cari.FieldError
	switch {
	case errors.As(err, &fe):
		return invalidArgument(fe.Field, fe.Reason)
	case errors.Is(err, context.DeadlineExceeded):
		return status.Error(codes.DeadlineExceeded, "deadline exceeded before the request finished")
	case errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, "request cancelled")
	case errors.Is(err, searcher.ErrUnavailable):
		return status.Error(codes.Unavailable, err.Error())
	case errors.Is(err, searcher.ErrNotFound):
		return status.Error(codes.NotFound, err.Error())
	case errors.Is(err, store.ErrModelMismatch), errors.Is(err, store.ErrNoCategories):
		return status.Error(codes.FailedPrecondition, err.Error())
	case errors.Is(err, catalog.ErrLimit):
		return status.Error(codes.ResourceExhausted, err.Error())
	}
	log.ErrorContext(ctx, "request failed", "method", method, "error", err)
	return status.Error(codes.Internal, err.Error())
}

// invalidArgument builds INVALID_ARGUMENT for one field, with the message
// "field: reason" and a google.rpc.BadRequest detail a client can read.
func invalidArgument(field, reason string) error {
	st := status.New(codes.InvalidArgument, field+": "+reason)
	withDetail, err := st.WithDetails(&errdetails.BadRequest{
		FieldViolations: []*errdetails.BadRequest_FieldViolation{{Field: field, Description: reason}},
	})
	if err != nil {
		return st.Err()
	}
	return withDetail.Err()
}
