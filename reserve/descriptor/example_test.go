package descriptor_test

import (
	"errors"
	"fmt"

	"github.com/btcsuite/btcd/chaincfg"

	"github.com/kosh-reserve/kosh/reserve/descriptor"
)

// Parse the BIP 86 receive descriptor of the "abandon ... about" test wallet
// and derive its first addresses and scripts, as the chain watcher does for its
// gap window.
func ExampleParse() {
	d, err := descriptor.Parse("tr([73c5da0a/86'/0'/0']xpub6BgBgsespWvERF3LHQu6CnqdvfEvtMcQjYrcRzx53QJjSxarj2afYWcLteoGVky7D3UKDP9QyrLprQ3VCECoY49yfdDEHGCtMMj92pReUsQ/0/*)",
		&chaincfg.MainNetParams)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(d)
	fmt.Println("ranged:", d.IsRanged(), "checksum given:", d.HasChecksum())
	for i := uint32(0); i < 2; i++ {
		addr, _ := d.Address(i)
		script, _ := d.Script(i)
		fmt.Printf("%d %s %x\n", i, addr, script)
	}
	// Output:
	// tr([73c5da0a/86h/0h/0h]xpub6BgBgsespWvERF3LHQu6CnqdvfEvtMcQjYrcRzx53QJjSxarj2afYWcLteoGVky7D3UKDP9QyrLprQ3VCECoY49yfdDEHGCtMMj92pReUsQ/0/*)#se42yddx
	// ranged: true checksum given: false
	// 0 bc1p5cyxnuxmeuwuvkwfem96lqzszd02n6xdcjrs20cac6yqjjwudpxqkedrcr 5120a60869f0dbcf1dc659c9cecbaf8050135ea9e8cdc487053f1dc6880949dc684c
	// 1 bc1p4qhjn9zdvkux4e44uhx8tc55attvtyu358kutcqkudyccelu0was9fqzwh 5120a82f29944d65b86ae6b5e5cc75e294ead6c59391a1edc5e016e3498c67fc7bbb
}

// Errors say what is wrong and wrap a sentinel the caller can test.
func ExampleParse_errors() {
	_, err := descriptor.Parse("wpkh(tpubDC3pD7UZXnsgh3EBjbtBQiB1FnLask7UHBSunZ1DPK4dCFFZoFRkgxHB8gt42FvLzx1DpxfHWxAsYaY6b643RVcGjDxXxns7wKKYnnfEcbB/0/*)",
		&chaincfg.MainNetParams)
	fmt.Println(err)
	fmt.Println(errors.Is(err, descriptor.ErrWrongNetwork))
	// Output:
	// descriptor "wpkh(tpubDC3p...EcbB/0/*)": wrong network: tpub is for testnet, network is mainnet
	// true
}

// A configuration loader requires the checksum, so that a mistyped descriptor
// is caught before the watcher looks for the wrong scripts.
func ExampleAddChecksum() {
	const desc = "wpkh(03a34b99f22c790c4e36b2b3c2c35a36db06226e41c692fc82b8b56ac1c540c5bd)"
	withSum := descriptor.AddChecksum(desc)
	fmt.Println(withSum)
	d, err := descriptor.Parse(withSum, &chaincfg.MainNetParams)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(d.HasChecksum())
	// Output:
	// wpkh(03a34b99f22c790c4e36b2b3c2c35a36db06226e41c692fc82b8b56ac1c540c5bd)#ah7klf29
	// true
}
