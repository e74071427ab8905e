package web

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestFiatValue(t *testing.T) {
	inr := &Price{Coefficient: "654321012", Scale: 2, Currency: "INR"}
	for _, c := range []struct {
		sats     int64
		p        *Price
		decimals int
		want     string
	}{
		{100_000_000, inr, 2, "INR 6,543,210.12"},
		{84_977_112, inr, 2, "INR 5,560,230.99"}, // 5,560,230.9977... rounded down
		{1, inr, 2, "INR 0.06"},                  // 0.0654 rounded down
		{0, inr, 2, "INR 0.00"},
		{100_000_000, &Price{Coefficient: "6543210", Scale: 0, Currency: "INR"}, 2, "INR 6,543,210.00"},
		{100_000_000, &Price{Coefficient: "x", Currency: "INR"}, 2, ""},
	} {
		if got := FiatValue(c.sats, c.p, c.decimals); got != c.want {
			t.Errorf("FiatValue(%d, %v, %d) = %q, want %q", c.sats, c.p, c.decimals, got, c.want)
		}
	}
}

// TestPageRupeeView: a fiat asset's card shows the counted reserves in its
// currency (rupee view) next to its worth in bitcoin (BTC view); a sat
// asset's card does not.
func TestPageRupeeView(t *testing.T) {
	srv := httptest.NewServer(testMux(newFixture(t)))
	defer srv.Close()
	res, err := srv.Client().Get(srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	body := string(b)
	// 1.19321067 BTC counted × INR 8,123,456.78 = INR 9,692,995.30 (rounded down).
	inr := body[strings.Index(body, `id="asset-INR"`):]
	inr = inr[:strings.Index(inr, "</article>")]
	for _, want := range []string{"Reserves in INR", "INR 9,692,995.30", "1.19321067 BTC", "Worth in bitcoin"} {
		if !strings.Contains(inr, want) {
			t.Errorf("INR card lacks %q:\n%s", want, inr)
		}
	}
	sat := body[strings.Index(body, `id="asset-SAT"`):]
	sat = sat[:strings.Index(sat, "</article>")]
	if strings.Contains(sat, "Reserves in") {
		t.Errorf("SAT card has a fiat reserves row:\n%s", sat)
	}
}
