// A Java node on Jinterface (erlang-jinterface): new OtpNode publishes its port to epmd over a
// connection it keeps, and never re-registers if that connection closes. Usage: JNode NAME SECONDS.
import com.ericsson.otp.erlang.OtpNode;

public class JNode {
    public static void main(String[] args) throws Exception {
        OtpNode node = new OtpNode(args[0], "restartcookie");
        System.out.println("published " + node.node() + " " + node.port());
        System.out.flush();
        Thread.sleep(Long.parseLong(args[1]) * 1000);
        System.out.println("held");
        node.close();
    }
}
