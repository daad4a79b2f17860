package io.capmesh.data;

import static org.assertj.core.api.Assertions.assertThat;

import io.capmesh.extensions.datasql.v1.ExecuteRequest;
import io.capmesh.extensions.datasql.v1.QueryRequest;
import io.capmesh.extensions.datasql.v1.SqlGrpc;
import io.capmesh.extensions.datasql.v1.Value;
import io.capmesh.proto.client.Completion;
import io.capmesh.testsupport.ServiceProcess;
import io.grpc.reflection.v1.ServerReflectionGrpc;
import io.grpc.reflection.v1.ServerReflectionRequest;
import io.grpc.reflection.v1.ServerReflectionResponse;
import io.grpc.stub.StreamObserver;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The packaged data runtime as its own process, on its embedded defaults, as {@code bin/service} starts it. */
class DataRuntimeProcessIT {

    @TempDir
    Path dir;

    @Test
    void servesSqlOnTheEmbeddedDefaultAndShowsItsTypedServiceThroughReflection() throws Exception {
        Path jar = Path.of(System.getProperty("capmesh.service.jar"));
        try (ServiceProcess data = ServiceProcess.start(jar, dir.resolve("data.log"),
                "--capmesh.runtime.data-dir=" + dir.resolve("data"))) {
            var sql = SqlGrpc.newBlockingStub(data.channel()).withDeadlineAfter(30, TimeUnit.SECONDS);
            sql.execute(ExecuteRequest.newBuilder().setSql("CREATE TABLE note (id BIGINT, text VARCHAR(20))").build());
            sql.execute(ExecuteRequest.newBuilder().setSql("INSERT INTO note VALUES (?, ?)")
                    .addParams(Value.newBuilder().setInt64Value(7)).addParams(Value.newBuilder().setStringValue("kept"))
                    .build());
            assertThat(sql.query(QueryRequest.newBuilder().setSql("SELECT text FROM note WHERE id = ?")
                    .addParams(Value.newBuilder().setInt64Value(7)).build()).getRows(0).getValues(0).getStringValue())
                    .isEqualTo("kept");

            assertThat(reflectedServices(data)).contains("capmesh.data.sql.v1.Sql", "capmesh.v1.RuntimeService",
                    "grpc.health.v1.Health");
            assertThat(fileDefining(data, "capmesh.data.sql.v1.Sql")).isEqualTo("capmesh/data/sql/v1/sql.proto");
            assertThat(http(data, "/actuator/health")).contains("\"status\":\"UP\"");
            assertThat(http(data, "/actuator/prometheus")).contains("hikaricp_connections_max{pool=\"main\"} 10");
        }
    }

    private static List<String> reflectedServices(ServiceProcess data) throws Exception {
        return reflect(data, ServerReflectionRequest.newBuilder().setListServices("").build())
                .getListServicesResponse().getServiceList().stream().map(s -> s.getName()).toList();
    }

    private static String fileDefining(ServiceProcess data, String symbol) throws Exception {
        var descriptor = reflect(data, ServerReflectionRequest.newBuilder().setFileContainingSymbol(symbol).build())
                .getFileDescriptorResponse().getFileDescriptorProto(0);
        return com.google.protobuf.DescriptorProtos.FileDescriptorProto.parseFrom(descriptor).getName();
    }

    private static ServerReflectionResponse reflect(ServiceProcess data, ServerReflectionRequest request)
            throws Exception {
        CompletableFuture<ServerReflectionResponse> answer = new CompletableFuture<>();
        StreamObserver<ServerReflectionRequest> requests = ServerReflectionGrpc.newStub(data.channel())
                .serverReflectionInfo(Completion.of(answer));
        requests.onNext(request);
        requests.onCompleted();
        return answer.get(10, TimeUnit.SECONDS);
    }

    private static String http(ServiceProcess data, String path) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + data.managementPort() + path)).build(),
                HttpResponse.BodyHandlers.ofString()).body();
    }
}
