package mamori.es8node;

import java.io.Reader;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.apache.lucene.analysis.TokenStream;
import org.apache.lucene.analysis.Tokenizer;
import org.apache.lucene.analysis.charfilter.MappingCharFilter;
import org.apache.lucene.analysis.charfilter.NormalizeCharMap;
import org.apache.lucene.analysis.miscellaneous.TruncateTokenFilter;
import org.apache.lucene.analysis.pattern.PatternTokenizer;
import org.elasticsearch.common.regex.Regex;
import org.elasticsearch.index.analysis.AbstractCharFilterFactory;
import org.elasticsearch.index.analysis.AbstractTokenFilterFactory;
import org.elasticsearch.index.analysis.AbstractTokenizerFactory;
import org.elasticsearch.index.analysis.Analysis;
import org.elasticsearch.index.analysis.CharFilterFactory;
import org.elasticsearch.index.analysis.NormalizingCharFilterFactory;
import org.elasticsearch.index.analysis.TokenFilterFactory;
import org.elasticsearch.index.analysis.TokenizerFactory;
import org.elasticsearch.indices.analysis.AnalysisModule.AnalysisProvider;
import org.elasticsearch.plugins.AnalysisPlugin;
import org.elasticsearch.plugins.Plugin;

/**
 * The three analysis components mamori's index template names that Elasticsearch 8 keeps in its
 * analysis-common module (org.elasticsearch.analysis.common, not published to Maven Central): the
 * "mapping" char filter, the "pattern" tokenizer and the "truncate" token filter. Each is the
 * Lucene class analysis-common itself wraps, with the same settings ("lowercase" is in the server).
 */
public final class LuceneAnalysisPlugin extends Plugin implements AnalysisPlugin {

    @Override
    public Map<String, AnalysisProvider<CharFilterFactory>> getCharFilters() {
        return Map.of("mapping", AnalysisPlugin.requiresAnalysisSettings((indexSettings, env, name, settings) -> {
            List<String> rules = Analysis.getWordList(env, settings, "mappings");
            if (rules == null) {
                throw new IllegalArgumentException("mapping requires either `mappings` or `mappings_path` to be configured");
            }
            NormalizeCharMap.Builder b = new NormalizeCharMap.Builder();
            parseRules(rules, b);
            NormalizeCharMap map = b.build();
            return new MappingFactory(name, map);
        }));
    }

    private static final class MappingFactory extends AbstractCharFilterFactory implements NormalizingCharFilterFactory {
        private final NormalizeCharMap map;

        MappingFactory(String name, NormalizeCharMap map) {
            super(name);
            this.map = map;
        }

        @Override
        public Reader create(Reader reader) {
            return new MappingCharFilter(map, reader);
        }
    }

    @Override
    public Map<String, AnalysisProvider<TokenizerFactory>> getTokenizers() {
        return Map.of("pattern", (indexSettings, env, name, settings) -> {
            String sPattern = settings.get("pattern", "\\W+");
            Pattern pattern = Regex.compile(sPattern, settings.get("flags"));
            int group = settings.getAsInt("group", -1);
            return new AbstractTokenizerFactory(indexSettings, settings, name) {
                @Override
                public Tokenizer create() {
                    return new PatternTokenizer(pattern, group);
                }
            };
        });
    }

    @Override
    public Map<String, AnalysisProvider<TokenFilterFactory>> getTokenFilters() {
        return Map.of("truncate", AnalysisPlugin.requiresAnalysisSettings((indexSettings, env, name, settings) -> {
            int length = settings.getAsInt("length", -1);
            if (length <= 0) {
                throw new IllegalArgumentException("length parameter must be provided");
            }
            return new AbstractTokenFilterFactory(name, settings) {
                @Override
                public TokenStream create(TokenStream tokenStream) {
                    return new TruncateTokenFilter(tokenStream, length);
                }
            };
        }));
    }

    // the rule syntax of analysis-common's MappingCharFilterFactory: "lhs => rhs" with \\ \n \t \r \b \f \\uXXXX escapes
    private static final Pattern RULE = Pattern.compile("(.*)\\s*=>\\s*(.*)\\s*$");

    private static void parseRules(List<String> rules, NormalizeCharMap.Builder map) {
        for (String rule : rules) {
            Matcher m = RULE.matcher(rule);
            if (m.find() == false) {
                throw new RuntimeException("Invalid mapping rule : [" + rule + "]");
            }
            String lhs = parseString(m.group(1).trim());
            String rhs = parseString(m.group(2).trim());
            if (lhs == null || rhs == null) {
                throw new RuntimeException("Invalid mapping rule: [" + rule + "]. Illegal mapping.");
            }
            map.add(lhs, rhs);
        }
    }

    private static String parseString(String s) {
        StringBuilder out = new StringBuilder(s.length());
        int readPos = 0;
        int len = s.length();
        while (readPos < len) {
            char c = s.charAt(readPos++);
            if (c == '\\') {
                if (readPos >= len) {
                    throw new RuntimeException("Invalid escaped char in [" + s + "]");
                }
                c = s.charAt(readPos++);
                switch (c) {
                    case '\\': c = '\\'; break;
                    case 'n': c = '\n'; break;
                    case 't': c = '\t'; break;
                    case 'r': c = '\r'; break;
                    case 'b': c = '\b'; break;
                    case 'f': c = '\f'; break;
                    case 'u':
                        if (readPos + 3 >= len) {
                            throw new RuntimeException("Invalid escaped char in [" + s + "]");
                        }
                        c = (char) Integer.parseInt(s.substring(readPos, readPos + 4), 16);
                        readPos += 4;
                        break;
                    default:
                        break;
                }
            }
            out.append(c);
        }
        return out.toString();
    }
}
