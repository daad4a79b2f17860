package io.capmesh.bench;

import com.google.protobuf.ByteString;
import io.grpc.Server;
import io.grpc.benchmarks.proto.BenchmarkServiceGrpc;
import io.grpc.benchmarks.proto.Messages.Payload;
import io.grpc.benchmarks.proto.Messages.SimpleRequest;
import io.grpc.benchmarks.proto.Messages.SimpleResponse;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollServerSocketChannel;
import io.grpc.stub.StreamObserver;
import java.net.InetSocketAddress;

/**
 * The peer baseline: grpc-java's own benchmark service ({@code grpc.testing.BenchmarkService/UnaryCall} from
 * {@code io.grpc:grpc-benchmarks}) answering with a payload of the size asked for, as its {@code qps.AsyncServer}
 * does, and nothing else. Run as its own process by {@link Network}:
 *
 * <pre>RawEchoServer PORT tuned|default</pre>
 *
 * <p>{@code tuned} is the epoll transport with a direct executor (the floor DESIGN.md holds a hop against);
 * {@code default} is NIO with grpc-java's default thread pool. Prints {@code LISTENING port} once it accepts
 * calls and runs until its standard input closes.
 */
public final class RawEchoServer {

    private RawEchoServer() {
    }

    public static void main(String[] args) throws Exception {
        int port = Integer.parseInt(args[0]);
        boolean tuned = args[1].equals("tuned");
        NettyServerBuilder builder = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", port));
        if (tuned) {
            EpollEventLoopGroup boss = new EpollEventLoopGroup(1);
            EpollEventLoopGroup workers = new EpollEventLoopGroup();
            builder.bossEventLoopGroup(boss).workerEventLoopGroup(workers)
                    .channelType(EpollServerSocketChannel.class).directExecutor();
        }
        Server server = builder.addService(new Echo()).build().start();
        System.out.println("LISTENING " + server.getPort());
        System.out.flush();
        while (System.in.read() >= 0) {
            // until the launcher closes our standard input (or dies)
        }
        server.shutdownNow();
        System.exit(0); // the event loops' threads would keep the JVM alive
    }

    /** UnaryCall answering with {@code response_size} bytes, like grpc-java's benchmark server. */
    static final class Echo extends BenchmarkServiceGrpc.BenchmarkServiceImplBase {
        private volatile SimpleResponse cached = SimpleResponse.getDefaultInstance();

        @Override
        public void unaryCall(SimpleRequest request, StreamObserver<SimpleResponse> observer) {
            SimpleResponse response = cached;
            if (response.getPayload().getBody().size() != request.getResponseSize()) {
                response = SimpleResponse.newBuilder().setPayload(Payload.newBuilder()
                        .setBody(ByteString.copyFrom(new byte[request.getResponseSize()]))).build();
                cached = response;
            }
            observer.onNext(response);
            observer.onCompleted();
        }
    }
}
