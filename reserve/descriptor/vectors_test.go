package descriptor

// Keys and descriptors from the BIP test vectors, shared by the tests.
const (
	// BIP 380/383/386: xprvA1RpRA33... neutered.
	xpubA = "xpub6ERApfZwUNrhLCkDtcHTcxd75RbzS1ed54G1LkBUHQVHQKqhMkhgbmJbZRkrgZw4koxb5JaHWkY4ALHY2grBGRjaDMzQLcgJvLJuZZvRcEL"
	// BIP 383.
	xpubB = "xpub68NZiKmJWnxxS6aaHmn81bvJeTESw724CRDs6HbuccFQN9Ku14VQrADWgqbhhTHBaohPX4CjNLf9fq9MYo6oDaPPLPxSb7gwQN3ih19Zm4Y"
	// BIP 382: xprv9vHkqa6EV4sP... neutered.
	xpubC = "xpub69H7F5d8KSRgmmdJg2KhpAK8SR3DjMwAdkxj3ZuxV27CprR9LgpeyGmXUbC6wb7ERfvrnKZjXoUmmDznezpbZb7ap6r1D3tgFxHmwMkQTPH"
	// BIP 382: the private key of xpubC.
	xprvC = "xprv9vHkqa6EV4sPZHYqZznhT2NPtPCjKuDKGY38FBWLvgaDx45zo9WQRUT3dKYnjwih2yJD9mkrocEZXo1ex8G81dwSM1fwqWpWkeS3v86pgKt"
	// BIP 380/383: a master xprv.
	xprvM = "xprv9s21ZrQH143K31xYSDQpPDxsXRTUcvj2iNHm5NUtrGiGG5e2DtALGdso3pGz6ssrdK4PFmM8NSpSBHNqPqm55Qn3LqFtT2emdEXVYsCzC2U"
	// xprvC with testnet version bytes.
	tprvC = "tprv8cxhcuQZtLhUA6nNEZeCcfzPCWcwZRFKc5xF7bvoQf4hjeq5nWr9wDpVYViSkK71QQpz9sNcxxpMzeZQ5Lc4phD2setFVsYZfkBUMsgR3x8"

	// BIP 86 account 0 of "abandon ... about", m/86'/0'/0'.
	xpub86 = "xpub6BgBgsespWvERF3LHQu6CnqdvfEvtMcQjYrcRzx53QJjSxarj2afYWcLteoGVky7D3UKDP9QyrLprQ3VCECoY49yfdDEHGCtMMj92pReUsQ"
	// The same key with testnet version bytes.
	tpub86 = "tpubDC3pD7UZXnsgh3EBjbtBQiB1FnLask7UHBSunZ1DPK4dCFFZoFRkgxHB8gt42FvLzx1DpxfHWxAsYaY6b643RVcGjDxXxns7wKKYnnfEcbB"

	// BIP 380-386: the public key of L4rK1yDtCWekvXuE6oXD9jCYfFNV2cWRpVuPLBcCU2z8TrisoyY1.
	pubL4    = "03a34b99f22c790c4e36b2b3c2c35a36db06226e41c692fc82b8b56ac1c540c5bd"
	xonlyL4  = "a34b99f22c790c4e36b2b3c2c35a36db06226e41c692fc82b8b56ac1c540c5bd"
	uncompL4 = "04a34b99f22c790c4e36b2b3c2c35a36db06226e41c692fc82b8b56ac1c540c5bd5b8dec5235a0fa8722476c7709c02559e3aa73aa03918ba2d492eea75abea235"
	wifL4    = "L4rK1yDtCWekvXuE6oXD9jCYfFNV2cWRpVuPLBcCU2z8TrisoyY1"
	wif5K    = "5KYZdUEo39z3FPrtuX2QbbwGnNP5zTd7yyr2SC1j299sBCnWjss"
	// BIP 380.
	pub60 = "0260b2003c386519fc9eadf2b5cf124dd8eea4c4e68d5e154050a9346ea98ce600"
)

// bip383Keys16 are the 16 compressed keys of the BIP 383 multi(16,...) vector.
var bip383Keys16 = []string{
	"03669b8afcec803a0d323e9a17f3ea8e68e8abe5a278020a929adbec52421adbd0",
	"0260b2003c386519fc9eadf2b5cf124dd8eea4c4e68d5e154050a9346ea98ce600",
	"0362a74e399c39ed5593852a30147f2959b56bb827dfa3e60e464b02ccf87dc5e8",
	"0261345b53de74a4d721ef877c255429961b7e43714171ac06168d7e08c542a8b8",
	"02da72e8b46901a65d4374fe6315538d8f368557dda3a1dcf9ea903f3afe7314c8",
	"0318c82dd0b53fd3a932d16e0ba9e278fcc937c582d5781be626ff16e201f72286",
	"0297ccef1ef99f9d73dec9ad37476ddb232f1238aff877af19e72ba04493361009",
	"02e502cfd5c3f972fe9a3e2a18827820638f96b6f347e54d63deb839011fd5765d",
	"03e687710f0e3ebe81c1037074da939d409c0025f17eb86adb9427d28f0f7ae0e9",
	"02c04d3a5274952acdbc76987f3184b346a483d43be40874624b29e3692c1df5af",
	"02ed06e0f418b5b43a7ec01d1d7d27290fa15f75771cb69b642a51471c29c84acd",
	"036d46073cbb9ffee90473f3da429abc8de7f8751199da44485682a989a4bebb24",
	"02f5d1ff7c9029a80a4e36b9a5497027ef7f3e73384a4a94fbfe7c4e9164eec8bc",
	"02e41deffd1b7cce11cde209a781adcffdabd1b91c0ba0375857a2bfd9302419f3",
	"02d76625f7956a7fc505ab02556c23ee72d832f1bac391bcd2d3abce5710a13d06",
	"0399eb0a5487515802dc14544cf10b3666623762fbed2ec38a3975716e2c29c232",
}

// extraKeys are four more valid compressed keys (both parities of the x
// coordinates of L4rK... and of a BIP 386 key), to reach 20 and 21 keys.
var extraKeys = []string{
	"03a34b99f22c790c4e36b2b3c2c35a36db06226e41c692fc82b8b56ac1c540c5bd",
	"02a34b99f22c790c4e36b2b3c2c35a36db06226e41c692fc82b8b56ac1c540c5bd",
	"02df12b7035bdac8e3bab862a3a83d06ea6b17b6753d52edecba9be46f5d09e076",
	"03df12b7035bdac8e3bab862a3a83d06ea6b17b6753d52edecba9be46f5d09e076",
	"02669b8afcec803a0d323e9a17f3ea8e68e8abe5a278020a929adbec52421adbd0",
}
