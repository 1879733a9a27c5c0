// Validates Factur-X/ZUGFeRD PDFs with Mustang's validator (PDF/A through veraPDF, the XML against
// the XSD and the EN 16931 schematron) and prints one XML report per file, each on its own line
// after "=== <file>". Run as a single-file program: java -cp 'libs/*' Validate.java a.pdf b.pdf
import org.mustangproject.validator.ZUGFeRDValidator;

public class Validate {
    public static void main(String[] files) {
        for (String file : files) {
            ZUGFeRDValidator validator = new ZUGFeRDValidator();
            String report = validator.validate(file);
            System.out.println("=== " + file);
            System.out.println(report.replace('\n', ' '));
        }
    }
}
