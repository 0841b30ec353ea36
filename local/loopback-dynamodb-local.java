import java.io.File;
import java.io.IOException;
import java.lang.reflect.Field;
import org.eclipse.jetty.server.AbstractNetworkConnector;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Server;
import software.amazon.dynamodb.services.local.main.CommandLineInput;
import software.amazon.dynamodb.services.local.main.ServerRunner;
import software.amazon.dynamodb.services.local.monitoring.Telemetry;
import software.amazon.dynamodb.services.local.monitoring.TelemetryUtil;
import software.amazon.dynamodb.services.local.server.DynamoDBProxyServer;

/**
 * DynamoDB Local on the loopback interface only, for local/dynamodb-local.ts (Java's single-file
 * source launcher runs it: `java -cp '<jar>:<lib>/*' -Djava.library.path=<lib>
 * local/loopback-dynamodb-local.java <DynamoDB Local options>`).
 *
 * DynamoDB Local has no bind-address option: its Jetty server is built with `new Server(port)`,
 * which listens on every interface, without authentication, so anyone who reaches the port could
 * write an owner key into any account. This does what ServerRunner.main does (ServerRunner's
 * static initialiser, which also sets the Jetty and SQLite log levels, runs on its first use
 * below), except that it sets the host of every connector to 127.0.0.1 before the server starts.
 * Bad options exit 1 here (ServerRunner.main prints them and exits 0).
 *
 * The JVM also exits when its standard input reaches end of file: the Node process that started
 * it holds the other end of that pipe, so the JVM cannot outlive it, even when it is SIGKILLed.
 */
class LoopbackDynamoDbLocal {
  private static final String LOOPBACK = "127.0.0.1";

  public static void main(String[] args) throws Exception {
    // As ServerRunner.main: `-help` prints the usage and stops, bad options print one line.
    CommandLineInput input;
    try {
      input = new CommandLineInput(args);
      if (!input.init()) return;
    } catch (org.apache.commons.cli.ParseException e) {
      fail("Error processing the supplied command line arguments: " + e.getMessage());
      return;
    }
    DynamoDBProxyServer proxy = ServerRunner.createServerFromCommandLineArgs(args);
    Field field = DynamoDBProxyServer.class.getDeclaredField("server");
    field.setAccessible(true);
    Server server = (Server) field.get(proxy);
    int connectors = 0;
    for (Connector connector : server.getConnectors()) {
      if (connector instanceof AbstractNetworkConnector network) {
        network.setHost(LOOPBACK);
        connectors++;
      }
    }
    // Fail closed: a DynamoDB Local whose server we could not pin would listen everywhere.
    if (connectors == 0) {
      fail("no network connector found to bind to " + LOOPBACK + "; refusing to start");
      return;
    }
    try {
      Telemetry.configureTelemetry(
          TelemetryUtil.getSetupType(new File("/.dockerenv"), new File("pom.xml")),
          ServerRunner.getSetupMode(input),
          TelemetryUtil.isTelemetryEnabled(input.isDisableTelemetry()));
    } catch (Exception e) {
      // As ServerRunner.main: telemetry never stops the server.
    }
    // start() reports a port it cannot bind on stderr and stops the server instead of throwing.
    proxy.start();
    if (!server.isStarted()) {
      System.exit(1);
    }
    try {
      while (System.in.read() != -1) {
        // Anything written to us is ignored: only the end of the pipe matters.
      }
    } catch (IOException e) {
      // A broken pipe means the same as its end.
    }
    System.exit(0);
  }

  private static void fail(String message) {
    System.err.println(message);
    System.exit(1);
  }
}
