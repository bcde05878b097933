/// HTTP for the Globalping client: the shared `HTTPTransport` with its same-origin redirect
/// rule, so that the `Authorization` header never reaches another server.
typealias GlobalpingTransport = HTTPTransport
