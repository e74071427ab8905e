package priceserver

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
	// Currency is the quoted currency.
	Currency = "INR"
	// Price is the quote, INR per BTC.
	Price = "6543210.12"
)

// Source is one endpoint of the demo's price server and the
// oracle.source value that makes koshd poll it.
type Source struct {
	// Name is the source's name in koshd.
	Name string
	// Path is the endpoint's URL path.
	Path string
	// Body is the JSON document the endpoint serves.
	Body string
	// Pointer is the JSON pointer to the price in Body.
	Pointer string
	// Scale, if set, is the number of decimals Body's integer price holds.
	Scale string
}

// Sources are the three quotes the server serves.
var Sources = []Source{
	// A string price, as many exchanges quote it.
	{Name: "demo-ex1", Path: "/ex1/btc-inr", Body: `{"pair":"BTC-INR","price":"6543210.12"}`, Pointer: "/price"},
	// A number in a nested object, 0.5 bps above.
	{Name: "demo-ex2", Path: "/ex2/ticker", Body: `{"data":{"inr":6543537.28,"ts":0}}`, Pointer: "/data/inr"},
	// Paise per BTC (scale 2), 0.3 bps below.
	{Name: "demo-ex3", Path: "/ex3/v1/price", Body: `{"btc":{"inr_paise":654301380}}`, Pointer: "/btc/inr_paise", Scale: "2"},
}

// Server serves Sources on 127.0.0.1 until Close.
type Server struct {
	// Addr is the server's host:port.
	Addr string
	srv  *http.Server
}

// Start listens on a free loopback port and serves Sources.
func Start() (*Server, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("price server: %w", err)
	}
	mux := http.NewServeMux()
	for _, s := range Sources {
		body := s.Body
		mux.HandleFunc("GET "+s.Path, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Cache-Control", "no-store")
			fmt.Fprintln(w, body)
		})
	}
	p := &Server{Addr: l.Addr().String(), srv: &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}}
	go func() {
		if err := p.srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			fmt.Printf("price server: %v\n", err)
		}
	}()
	return p, nil
}

// OracleArgs are koshd's --oracle.* flags for the demo's sources: at least
// two of the three must agree within the default spread, polled every 15 s.
func (p *Server) OracleArgs() []string {
	var args []string
	for _, s := range Sources {
		v := fmt.Sprintf("name=%s,currency=%s,url=%s,pointer=%s", s.Name, Currency, p.URL(s), s.Pointer)
		if s.Scale != "" {
			v += ",scale=" + s.Scale
		}
		args = append(args, "--oracle.source="+v)
	}
	return append(args, "--oracle.minsources=2", "--oracle.pollinterval=15s", "--oracle.maxage=2m")
}

// URL is where the server serves s.
func (p *Server) URL(s Source) string { return "http://" + p.Addr + s.Path }

// Close stops the server.
func (p *Server) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	p.srv.Shutdown(ctx)
}
