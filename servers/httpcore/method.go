package httpcore

// methodNames maps each Method to its token as sent on the wire.
var methodNames = [...]string{
	MethodUnknown: "UNKNOWN",
	MethodGET:     "GET",
	MethodHEAD:    "HEAD",
	MethodPOST:    "POST",
	MethodPUT:     "PUT",
	MethodDELETE:  "DELETE",
	MethodOPTIONS: "OPTIONS",
	MethodTRACE:   "TRACE",
	MethodCONNECT: "CONNECT",
	MethodPATCH:   "PATCH",
}

// ParseMethod maps a method token to its Method. Methods are
// case-sensitive (RFC 9110 9.1): "get" is MethodUnknown, like any token
// the core does not know. ParseMethod does not check that b is a token;
// Parser.Parse does.
func ParseMethod(b []byte) Method {
	// A switch on string(b) compiles to comparisons without allocating.
	switch string(b) {
	case "GET":
		return MethodGET
	case "HEAD":
		return MethodHEAD
	case "POST":
		return MethodPOST
	case "PUT":
		return MethodPUT
	case "DELETE":
		return MethodDELETE
	case "OPTIONS":
		return MethodOPTIONS
	case "TRACE":
		return MethodTRACE
	case "CONNECT":
		return MethodCONNECT
	case "PATCH":
		return MethodPATCH
	}
	return MethodUnknown
}

// String returns the method token, or "UNKNOWN" for MethodUnknown and
// values outside the known set (the token as sent is Request.MethodBytes).
func (m Method) String() string {
	if int(m) < len(methodNames) {
		return methodNames[m]
	}
	return methodNames[MethodUnknown]
}
