/// An RFC 4180 CSV reader that remembers where every field starts, for diagnostics.
/// Quoted fields may hold commas, doubled quotes and line breaks.
struct CSVReader {
    struct Field {
        var value: String
        var line: Int
        var column: Int
        var quoted: Bool
    }

    struct Record {
        var line: Int
        var fields: [Field]
    }

    struct SyntaxError: Error {
        var line: Int
        var column: Int
        var message: String
    }

    /// Parses the whole text. Blank lines are skipped.
    static func records(_ text: String) throws(SyntaxError) -> [Record] {
        var records: [Record] = []
        var fields: [Field] = []
        var value = ""
        var line = 1, column = 1
        var fieldLine = 1, fieldColumn = 1, recordLine = 1
        var inQuotes = false, wasQuoted = false, fieldStarted = false
        var scalars = Array(text.unicodeScalars)[...]
        if scalars.first == "\u{FEFF}" { scalars = scalars.dropFirst() }

        func endField() {
            fields.append(Field(value: value, line: fieldLine, column: fieldColumn, quoted: wasQuoted))
            value = ""
            wasQuoted = false
            fieldStarted = false
        }
        func endRecord() {
            let blank = fields.count == 1 && fields[0].value.isEmpty && !fields[0].quoted
            if !blank {
                records.append(Record(line: recordLine, fields: fields))
            }
            fields = []
        }

        var index = scalars.startIndex
        while index < scalars.endIndex {
            let c = scalars[index]
            let next = scalars.index(after: index)
            if !fieldStarted {
                fieldStarted = true
                fieldLine = line
                fieldColumn = column
                if fields.isEmpty { recordLine = line }
            }
            if inQuotes {
                if c == "\"" {
                    if next < scalars.endIndex, scalars[next] == "\"" {
                        value.unicodeScalars.append("\"")
                        index = scalars.index(after: next)
                        column += 2
                        continue
                    }
                    inQuotes = false
                } else {
                    value.unicodeScalars.append(c)
                    if c == "\n" { line += 1; column = 0 }
                }
            } else {
                switch c {
                case "\"":
                    guard value.isEmpty, !wasQuoted else {
                        throw SyntaxError(line: line, column: column, message: "a quote inside an unquoted field; quote the whole field and double inner quotes")
                    }
                    inQuotes = true
                    wasQuoted = true
                case ",":
                    endField()
                case "\r":
                    break
                case "\n":
                    endField()
                    endRecord()
                    line += 1
                    column = 0
                default:
                    guard !wasQuoted else {
                        throw SyntaxError(line: line, column: column, message: "text after a closing quote")
                    }
                    value.unicodeScalars.append(c)
                }
            }
            index = next
            column += 1
        }
        if inQuotes {
            throw SyntaxError(line: fieldLine, column: fieldColumn, message: "a quoted field is never closed")
        }
        if fieldStarted || !fields.isEmpty {
            endField()
            endRecord()
        }
        return records
    }
}
