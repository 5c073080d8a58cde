// Package httpcore is the HTTP/1.x core shared by every flashbench server
// architecture: the incremental request parser, request validation, URL to
// file translation confined to the document root, MIME types, response
// headers, error responses and the three Flash caches (pathname translation,
// response header, mapped file).
//
// httpcore makes no concurrency decision and does no socket I/O. An
// architecture feeds it request bytes and gets back a Plan: the header bytes
// to send and a body source (bytes, mapped chunks, or a file range for
// sendfile). Because every architecture sends the bytes a Plan describes,
// only the concurrency model differs between them, as in the Flash paper,
// where Flash, Flash-SPED, Flash-MT and Flash-MP were built from one code
// base.
package httpcore
