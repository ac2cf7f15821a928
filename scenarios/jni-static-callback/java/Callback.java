// Compiled into $NATIVE by the scenario's prepare step (javac, in the cell's container).
// The Rust host starts a JVM with $NATIVE on its class path and calls Callback.run().
public class Callback {
    // Implemented by the host executable as Java_Callback_answer.
    static native int answer();

    public static int run() {
        // A statically linked JNI library (JNI spec, JEP 178): the JVM first looks for
        // JNI_OnLoad_linkmatrix in the main program; only if that is absent does it search
        // java.library.path for liblinkmatrix.so.
        System.loadLibrary("linkmatrix");
        return answer();
    }
}
