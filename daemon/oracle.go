package daemon

import (
	"context"
	"strings"

	"github.com/kosh-reserve/kosh/oracle"
	"github.com/kosh-reserve/kosh/rpcserver"
	"github.com/kosh-reserve/kosh/store"
)

var _ rpcserver.PriceBook = (*oracle.Book)(nil)

// startOracle builds the oracles the [oracle] options name, restores the
// recorded manual prices and starts polling (stopped by Stop through
// d.ctx). With no [oracle] options it returns nil: a fiat-pegged mint then
// fails with reserve.ErrNoOracle.
func (d *Daemon) startOracle() (*oracle.Book, error) {
	cfgs, err := d.cfg.Oracle.Configs()
	if err != nil || len(cfgs) == 0 {
		return nil, err
	}
	book, err := oracle.NewBook(cfgs, manualPriceLog{d.db}, d.log.With("subsystem", "oracle"))
	if err != nil {
		return nil, err
	}
	if err := book.Restore(d.ctx); err != nil {
		return nil, err
	}
	book.Run(d.ctx, &d.loops)
	d.log.Info("price oracle started", "currencies", strings.Join(book.Currencies(), ","),
		"sources", len(d.cfg.Oracle.Sources))
	return book, nil
}

// manualPriceLog keeps the oracle's manual prices in the store.
type manualPriceLog struct{ db *store.DB }

var _ oracle.ManualLog = manualPriceLog{}

// LatestManualPrices implements oracle.ManualLog.
func (l manualPriceLog) LatestManualPrices(ctx context.Context) ([]oracle.ManualRecord, error) {
	var rows []store.ManualPriceRow
	if err := l.db.Read(ctx, func(tx *store.Tx) error {
		var err error
		rows, err = tx.LatestManualPrices(ctx)
		return err
	}); err != nil {
		return nil, err
	}
	out := make([]oracle.ManualRecord, len(rows))
	for i, r := range rows {
		out[i] = oracle.ManualRecord(r)
	}
	return out, nil
}

// RecordManualPrice implements oracle.ManualLog.
func (l manualPriceLog) RecordManualPrice(ctx context.Context, r oracle.ManualRecord) error {
	return l.db.Write(ctx, func(tx *store.Tx) error {
		_, err := tx.InsertManualPrice(ctx, store.ManualPriceRow(r))
		return err
	})
}
