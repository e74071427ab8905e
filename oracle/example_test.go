package oracle_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/kosh-reserve/kosh/oracle"
)

// An oracle over three loopback sources, one of them lying.
func ExampleOracle() {
	serve := func(body string) *httptest.Server {
		return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, body)
		}))
	}
	a := serve(`{"bitcoin":{"inr":6543210.12}}`)
	b := serve(`{"data":{"rates":[{"code":"INR","price":"6540000.00"}]}}`)
	liar := serve(`{"bitcoin":{"inr":9999999}}`)
	defer a.Close()
	defer b.Close()
	defer liar.Close()

	o, err := oracle.New(oracle.Config{
		Currency: "INR",
		Sources: []oracle.SourceConfig{
			{Name: "a", URL: a.URL, Pointer: "/bitcoin/inr"},
			{Name: "b", URL: b.URL, Pointer: "/data/rates/0/price"},
			{Name: "liar", URL: liar.URL, Pointer: "/bitcoin/inr"},
		},
		Interval:     time.Minute,
		MaxAge:       5 * time.Minute,
		MinSources:   2,
		MaxSpreadBps: 100,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	o.Poll(context.Background()) // Run(ctx) does this every Interval
	q := o.Current()
	fmt.Println(q.Price, q.Stale, q.SpreadBps)
	for _, s := range q.Sources {
		fmt.Println(s.Name, s.Price, s.Contributing)
	}
	// Output:
	// 6540000.00 false 5
	// a 6543210.12 true
	// b 6540000.00 true
	// liar 9999999 false
}
