package api_test

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/kosh-reserve/kosh/api"
	"github.com/kosh-reserve/kosh/perms"
)

// macaroonHeader is the header koshd's REST gateway reads the macaroon from
// (grpc-gateway passes Grpc-Metadata-* headers on as gRPC metadata).
const macaroonHeader = "Grpc-Metadata-macaroon"

// openAPIDoc is the part of a Swagger 2.0 document the security check reads.
type openAPIDoc struct {
	SecurityDefinitions map[string]struct {
		Type string `json:"type"`
		Name string `json:"name"`
		In   string `json:"in"`
	} `json:"securityDefinitions"`
	Security []map[string][]string `json:"security"`
	Paths    map[string]map[string]struct {
		OperationID string `json:"operationId"`
		// Security is nil when the operation inherits the document's.
		Security *[]map[string][]string `json:"security"`
	} `json:"paths"`
}

// checkSecurity returns every way doc's security declarations disagree with
// perms.Methods: each operation must name a kosh.v1 method perms knows;
// one that needs a macaroon must require an apiKey scheme reading
// Grpc-Metadata-macaroon from the header, and a public one must require
// nothing.
func checkSecurity(doc openAPIDoc) []string {
	var problems []string
	schemes := map[string]bool{}
	for name, s := range doc.SecurityDefinitions {
		if s.Type == "apiKey" && s.In == "header" && strings.EqualFold(s.Name, macaroonHeader) {
			schemes[name] = true
		}
	}
	if len(schemes) == 0 {
		problems = append(problems, fmt.Sprintf("no securityDefinitions entry is an apiKey in the %s header", macaroonHeader))
	}
	seen := map[string]bool{}
	for path, ops := range doc.Paths {
		for verb, op := range ops {
			route := strings.ToUpper(verb) + " " + path
			svc, method, ok := strings.Cut(op.OperationID, "_")
			if !ok {
				problems = append(problems, fmt.Sprintf("%s: operationId %q is not Service_Method", route, op.OperationID))
				continue
			}
			full := "/kosh.v1." + svc + "/" + method
			rule, ok := perms.Methods[full]
			if !ok {
				problems = append(problems, fmt.Sprintf("%s: %s is not in perms.Methods", route, full))
				continue
			}
			seen[full] = true
			effective := doc.Security
			if op.Security != nil {
				effective = *op.Security
			}
			// A requirement is met when all its schemes are: the route
			// needs the macaroon if every alternative includes it.
			needsMacaroon := len(effective) > 0
			for _, req := range effective {
				has := false
				for name := range req {
					has = has || schemes[name]
				}
				needsMacaroon = needsMacaroon && has
			}
			switch {
			case rule.Public && len(effective) > 0:
				problems = append(problems, fmt.Sprintf("%s (%s) is public but the document requires %v", route, full, effective))
			case !rule.Public && !needsMacaroon:
				problems = append(problems, fmt.Sprintf("%s (%s) needs a macaroon but the document requires %v", route, full, effective))
			}
		}
	}
	for full := range perms.Methods {
		if strings.HasPrefix(full, "/kosh.v1.") && !seen[full] {
			problems = append(problems, fmt.Sprintf("%s has no route in the document", full))
		}
	}
	sort.Strings(problems)
	return problems
}

func servedDoc(t *testing.T) openAPIDoc {
	t.Helper()
	var doc openAPIDoc
	if err := json.Unmarshal(api.OpenAPI, &doc); err != nil {
		t.Fatalf("api.OpenAPI (served at /openapi.json) is not JSON: %v", err)
	}
	if len(doc.Paths) < 15 {
		t.Fatalf("api.OpenAPI has %d paths; the document or its parsing is broken", len(doc.Paths))
	}
	return doc
}

// TestOpenAPIDeclaresMacaroon: the document koshd serves at /openapi.json
// declares the macaroon header as a security scheme, every route that needs
// a macaroon (perms.Methods) requires it, and the public routes require
// nothing, so that a client generated from the document sends the header
// exactly where koshd wants it.
func TestOpenAPIDeclaresMacaroon(t *testing.T) {
	for _, p := range checkSecurity(servedDoc(t)) {
		t.Error(p)
	}
}

// TestOpenAPISecurityCheckFails proves checkSecurity catches each mistake it
// is there for, on doctored copies of the served document.
func TestOpenAPISecurityCheckFails(t *testing.T) {
	none := []map[string][]string{}
	other := []map[string][]string{{"basic": nil}}
	for _, c := range []struct {
		name   string
		doctor func(d *openAPIDoc)
		want   string
	}{
		{"no scheme", func(d *openAPIDoc) { d.SecurityDefinitions = nil }, "no securityDefinitions entry"},
		{"no global requirement", func(d *openAPIDoc) { d.Security = nil }, "IssuerService/Mint) needs a macaroon"},
		{"authenticated route opts out", func(d *openAPIDoc) {
			op := d.Paths["/v1/mint"]["post"]
			op.Security = &none
			d.Paths["/v1/mint"]["post"] = op
		}, "IssuerService/Mint) needs a macaroon"},
		{"authenticated route asks for another scheme", func(d *openAPIDoc) {
			op := d.Paths["/v1/mint"]["post"]
			op.Security = &other
			d.Paths["/v1/mint"]["post"] = op
		}, "IssuerService/Mint) needs a macaroon"},
		{"public route inherits the requirement", func(d *openAPIDoc) {
			op := d.Paths["/v1/public/reserves"]["get"]
			op.Security = nil
			d.Paths["/v1/public/reserves"]["get"] = op
		}, "GetReserveStatus) is public"},
		{"route missing", func(d *openAPIDoc) { delete(d.Paths, "/v1/mint") }, "/kosh.v1.IssuerService/Mint has no route"},
	} {
		t.Run(c.name, func(t *testing.T) {
			doc := servedDoc(t)
			c.doctor(&doc)
			problems := checkSecurity(doc)
			if !strings.Contains(strings.Join(problems, "\n"), c.want) {
				t.Errorf("problems %q do not mention %q", problems, c.want)
			}
		})
	}
}
