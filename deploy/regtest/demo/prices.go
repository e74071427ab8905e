package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"
)

// The demo's BTC/INR price, and the three loopback sources that quote it
// in three shapes (within a few basis points of each other, well inside
// koshd's default 200 bps spread), so that the INR price koshd uses is a
// live oracle price agreed by 3 of 3 sources, not a manual one.
const (
	priceCurrency = "INR"
	demoPrice     = "6543210.12" // INR per BTC
)

// priceSource is one endpoint of the demo's price server and the
// oracle.source value that makes koshd poll it.
type priceSource struct {
	name, path, body, pointer, scale string
}

var priceSources = []priceSource{
	// A string price, as many exchanges quote it.
	{name: "demo-ex1", path: "/ex1/btc-inr", body: `{"pair":"BTC-INR","price":"6543210.12"}`, pointer: "/price"},
	// A number in a nested object, 0.5 bps above.
	{name: "demo-ex2", path: "/ex2/ticker", body: `{"data":{"inr":6543537.28,"ts":0}}`, pointer: "/data/inr"},
	// Paise per BTC (scale 2), 0.3 bps below.
	{name: "demo-ex3", path: "/ex3/v1/price", body: `{"btc":{"inr_paise":654301380}}`, pointer: "/btc/inr_paise", scale: "2"},
}

// priceServer serves the price sources on 127.0.0.1 until Close.
type priceServer struct {
	addr string
	srv  *http.Server
}

func startPriceServer() (*priceServer, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("price server: %w", err)
	}
	mux := http.NewServeMux()
	for _, s := range priceSources {
		body := s.body
		mux.HandleFunc("GET "+s.path, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Cache-Control", "no-store")
			fmt.Fprintln(w, body)
		})
	}
	p := &priceServer{addr: l.Addr().String(), srv: &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}}
	go func() {
		if err := p.srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			fmt.Printf("price server: %v\n", err)
		}
	}()
	return p, nil
}

// oracleArgs are koshd's --oracle.* flags for the demo's sources: at least
// two of the three must agree within the default spread, polled every 15 s.
func (p *priceServer) oracleArgs() []string {
	var args []string
	for _, s := range priceSources {
		v := fmt.Sprintf("name=%s,currency=%s,url=%s,pointer=%s", s.name, priceCurrency, p.url(s), s.pointer)
		if s.scale != "" {
			v += ",scale=" + s.scale
		}
		args = append(args, "--oracle.source="+v)
	}
	return append(args, "--oracle.minsources=2", "--oracle.pollinterval=15s", "--oracle.maxage=2m")
}

func (p *priceServer) url(s priceSource) string { return "http://" + p.addr + s.path }

func (p *priceServer) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	p.srv.Shutdown(ctx)
}
