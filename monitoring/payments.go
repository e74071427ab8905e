package monitoring

import (
	"github.com/kosh-reserve/kosh/payments"
	"github.com/prometheus/client_golang/prometheus"
)

// PaymentCollectors expose the payments service's counters (stats is
// Service.Stats), read at scrape time.
func PaymentCollectors(stats func() payments.Stats) []prometheus.Collector {
	return []prometheus.Collector{
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "kosh_payments_deposits_credited_total",
			Help: "Deposits (Lightning invoices and on-chain outputs) credited since start."},
			func() float64 { return float64(stats().DepositsCredited) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "kosh_payments_redemptions_paid_total",
			Help: "Redemptions paid out since start."},
			func() float64 { return float64(stats().RedemptionsPaid) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "kosh_payments_redemptions_refunded_total",
			Help: "Redemptions whose payout failed and that were refunded, since start."},
			func() float64 { return float64(stats().RedemptionsRefunded) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "kosh_payments_deposits_reorged_total",
			Help: "Credited on-chain deposit outputs found reorganised out of the chain since start."},
			func() float64 { return float64(stats().ReorgedDeposits) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "kosh_payments_flagged_deposit_outputs",
			Help: "Credited on-chain deposit outputs currently reorganised out (ListFlaggedDeposits); anything above 0 needs the issuer."},
			func() float64 { return float64(stats().FlaggedOutputs) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "kosh_payments_onchain_scan_height",
			Help: "Chain height the last completed on-chain deposit scan evaluated (0: none yet)."},
			func() float64 { return float64(stats().ScanHeight) }),
	}
}
