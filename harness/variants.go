package harness

// Variant is a `webserver --arch` architecture run with extra flags under
// a name of its own, so that an experiment can set it beside the others.
type Variant struct {
	// Arch is the webserver architecture, Args the flags it adds.
	Arch string
	Args []string
	// Description says what the variant stands for.
	Description string
}

// Variants are the built-in variants, by name.
var Variants = map[string]Variant{
	// The HotOS paper's thttpd was a SPED server without Flash's caches:
	// its Flash/thttpd ratios are amped against this.
	"sped-nocache": {Arch: "sped", Args: cacheFlags("none"),
		Description: "sped without its pathname, response-header and mapped-file caches: the HotOS paper's thttpd"},
}

// webArch returns the webserver architecture of arch: its variant's, or
// arch itself.
func webArch(arch string) string {
	if v, ok := Variants[arch]; ok {
		return v.Arch
	}
	return arch
}

// variantArgs returns the flags arch's variant adds, nil for none.
func variantArgs(arch string) []string {
	return Variants[arch].Args
}
