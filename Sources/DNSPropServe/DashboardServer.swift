import NIOCore
import NIOPosix
import NIOHTTP1
import Synchronization
import DNSProp

/// The HTTP server of `watch --listen`: SwiftNIO's HTTP/1.1 pipeline (no HTTP parsing of our own),
/// one event-loop thread, at most `maxConnections` connections open at once (more are closed on
/// accept), and a connection idle for `idleTimeout` seconds is closed.
public final class DashboardServer: Sendable {
    public let routes: DashboardRoutes
    public let maxConnections: Int
    /// Where it listens (the port the system chose when asked for port 0).
    public let boundAddress: ListenAddress
    private let group: MultiThreadedEventLoopGroup
    private let channel: any Channel
    private let open: OpenConnections

    final class OpenConnections: Sendable {
        let count = Atomic<Int>(0)
    }

    public static let defaultMaxConnections = 32
    public static let idleTimeout: Int64 = 30

    private init(routes: DashboardRoutes, maxConnections: Int, boundAddress: ListenAddress, group: MultiThreadedEventLoopGroup,
                 channel: any Channel, open: OpenConnections) {
        self.routes = routes
        self.maxConnections = maxConnections
        self.boundAddress = boundAddress
        self.group = group
        self.channel = channel
        self.open = open
    }

    /// Binds and starts serving; throws when the address cannot be bound.
    public static func start(_ address: ListenAddress, routes: DashboardRoutes,
                             maxConnections: Int = defaultMaxConnections) async throws -> DashboardServer {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let open = OpenConnections()
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.backlog, value: 64)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                let n = open.count.add(1, ordering: .relaxed).newValue
                channel.closeFuture.whenComplete { _ in open.count.subtract(1, ordering: .relaxed) }
                guard n <= maxConnections else { return channel.close() }
                return channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    try sync.addHandler(IdleStateHandler(allTimeout: .seconds(idleTimeout)))
                    try sync.configureHTTPServerPipeline(withErrorHandling: true)
                    try sync.addHandler(DashboardHTTPHandler(routes: routes))
                }
            }
            .childChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
        let channel: any Channel
        do {
            channel = try await bootstrap.bind(host: address.host, port: address.port).get()
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
        let bound = ListenAddress(host: address.host, port: channel.localAddress?.port ?? address.port)
        return DashboardServer(routes: routes, maxConnections: maxConnections, boundAddress: bound, group: group, channel: channel, open: open)
    }

    /// Connections open now.
    public var openConnections: Int { open.count.load(ordering: .relaxed) }

    /// Stops listening and closes every connection.
    public func stop() async {
        try? await channel.close()
        try? await group.shutdownGracefully()
    }
}

/// One connection: a request in, the route's response out (HEAD without the body), keep-alive as asked.
final class DashboardHTTPHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let routes: DashboardRoutes
    private var head: HTTPRequestHead?

    init(routes: DashboardRoutes) { self.routes = routes }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let h): head = h
        case .body: break        // GET and HEAD have no body; any other method is refused after .end
        case .end:
            guard let request = head else { return }
            head = nil
            respond(context: context, request: request)
        }
    }

    func respond(context: ChannelHandlerContext, request: HTTPRequestHead) {
        let response = routes.respond(method: request.method.rawValue, uri: request.uri, now: WallClock.now())
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: response.contentType)
        headers.add(name: "Content-Length", value: String(response.body.count))
        for (name, value) in DashboardRoutes.securityHeaders + response.headers { headers.add(name: name, value: value) }
        let keepAlive = request.isKeepAlive
        headers.add(name: "Connection", value: keepAlive ? "keep-alive" : "close")
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: request.version, status: HTTPResponseStatus(statusCode: response.status),
                                                             headers: headers))), promise: nil)
        if request.method != .HEAD {
            var buffer = context.channel.allocator.buffer(capacity: response.body.count)
            buffer.writeBytes(response.body)
            context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        }
        if keepAlive {
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        } else {
            let channel = context.channel
            let done = context.eventLoop.makePromise(of: Void.self)
            done.futureResult.whenComplete { _ in channel.close(promise: nil) }
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: done)
        }
    }

    /// A request NIO could not parse: its error handler has answered 400; the connection is closed
    /// rather than left holding a slot until the idle timeout.
    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            context.close(promise: nil)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }
}
