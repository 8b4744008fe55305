package collections

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/cari-search/cari/store/local"
)

// ErrDamaged is Verify's error once it has written a report that names a
// problem, so that cari verify exits non-zero.
var ErrDamaged = errors.New("the index is damaged or its parts disagree: run cari repair, or reindex from the source")

// Verify checks the collection name of dataDir (local.VerifyDir) and
// writes the report to w, as JSON with asJSON.
func Verify(ctx context.Context, dataDir, name string, log *slog.Logger, w io.Writer, asJSON bool) error {
	cat, _, dir, err := Find(dataDir, name, log)
	if err != nil {
		return err
	}
	defer cat.Close()
	return verifyDir(ctx, dir, log, w, asJSON)
}

func verifyDir(ctx context.Context, dir string, log *slog.Logger, w io.Writer, asJSON bool) error {
	rep, err := local.VerifyDir(ctx, dir, log)
	if err != nil {
		return err
	}
	if asJSON {
		_ = rep.WriteJSON(w)
	} else {
		rep.WriteText(w)
	}
	if !rep.OK() {
		return ErrDamaged
	}
	return nil
}

// Repair fixes what can be fixed in the collection o names without the
// source documents (local.Repair), writing each repair to w, and then
// verifies it. The embedding model (o's, or the collection's setting) is
// opened to rebuild a damaged vector log; without one, Repair says so if
// it comes to that.
func Repair(ctx context.Context, o Options, w io.Writer) error {
	cat, col, dir, err := Find(o.DataDir, o.Name, o.Logger)
	if err != nil {
		return err
	}
	defer cat.Close()
	o.Apply(col.Settings)
	opts := local.RepairOptions{Logger: o.Logger}
	emb, err := o.OpenEmbedder(ctx, dir)
	if err != nil {
		return err
	}
	if emb != nil {
		defer emb.Close()
		info := emb.Model()
		opts.Vectors = local.VectorSpace{Model: info.ID(), Dim: info.Dim}
		opts.Embed = emb.EmbedDocuments
	}
	done, err := local.Repair(ctx, dir, opts)
	for _, d := range done {
		fmt.Fprintln(w, "repaired:", d)
	}
	if err != nil {
		return err
	}
	if len(done) == 0 {
		fmt.Fprintln(w, "nothing to repair")
	}
	return verifyDir(ctx, dir, o.Logger, w, false)
}
