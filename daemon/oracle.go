package daemon

import (
	"strings"

	"github.com/kosh-reserve/kosh/oracle/pricebook"
	"github.com/kosh-reserve/kosh/rpcserver"
	"github.com/kosh-reserve/kosh/store/pricedb"
)

var _ rpcserver.PriceBook = (*pricebook.Book)(nil)

// startOracle builds the oracles the [oracle] options name, restores the
// recorded manual prices and starts polling (stopped by Stop through
// d.ctx). With no [oracle] options it returns nil: a fiat-pegged mint then
// fails with reserve.ErrNoOracle.
func (d *Daemon) startOracle() (*pricebook.Book, error) {
	cfgs, err := d.cfg.Oracle.Configs()
	if err != nil || len(cfgs) == 0 {
		return nil, err
	}
	book, err := pricebook.New(cfgs, pricedb.New(d.db), d.log.With("subsystem", "oracle"))
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
