package whatsapp

// CodeClasses exposes the classification table to the external tests, which
// check every row against their own expectations.
var CodeClasses = codeClasses
