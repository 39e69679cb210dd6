#!/bin/sh
test_description='clean: every rule, with where:, on clean input; the seeds clean-ups'
. "$(dirname "$0")/lib.sh"

# clean_case IN OUT: clean the CSV that printf IN writes with the rules
# read from stdin (the lines after "rules:"); the CSV written must be the
# one printf OUT writes.
clean_case() {
	printf "$1" >in.csv &&
	{ printf "input: in.csv\noutput: out.csv\nrules:\n" && cat; } >t.yaml &&
	helper run-kind clean t.yaml >out 2>log &&
	printf "$2" >expect &&
	test_cmp expect out.csv
}

test_expect_success 'seed: US zip codes and revenue buckets' '
	cat >contacts.csv <<-\EOF &&
	email,country,zip_code,annual_revenue
	a@x.com,US,"  2139 ",$1200000
	b@x.com,US,02139-4307,"$1,200,000.00"
	c@x.com,CA,K1A 0B1,n/a
	d@x.com,US,zip: 9021,$95000
	e@x.com,US,,15000000
	f@x.com,US,021394307,
	EOF
	cat >t.yaml <<-\EOF &&
	input: contacts.csv
	output: cleaned/contacts.csv
	rules:
	  - trim: zip_code
	  - replace: {column: zip_code, pattern: '"'"'^\D*(\d+).*$'"'"', with: '"'"'$1'"'"'}
	    where: {column: country, matches: '"'"'^US$'"'"'}
	  - truncate: {column: zip_code, width: 5}
	    where: {column: country, matches: '"'"'^US$'"'"'}
	  - pad_left: {column: zip_code, width: 5, char: '"'"'0'"'"'}
	    where: {column: country, matches: '"'"'^US$'"'"'}
	  - strip_chars: {column: annual_revenue, chars: '"'"'$,'"'"'}
	  - bucket:
	      column: annual_revenue
	      into: revenue_band
	      bounds: [100000, 1000000, 10000000]
	      labels: ['"'"'< 100k'"'"', 100k-1M, 1M-10M, 10M+]
	      default: unknown
	EOF
	helper run-kind clean t.yaml >out 2>log &&
	echo "{\"records_in\": 6, \"records_out\": 6, \"records_rejected\": 0}" >expect &&
	test_cmp expect out &&
	cat >expect <<-\EOF &&
	email,country,zip_code,annual_revenue,revenue_band
	a@x.com,US,02139,1200000,1M-10M
	b@x.com,US,02139,1200000.00,1M-10M
	c@x.com,CA,K1A 0B1,n/a,unknown
	d@x.com,US,09021,95000,< 100k
	e@x.com,US,00000,15000000,10M+
	f@x.com,US,02139,,unknown
	EOF
	test_cmp expect cleaned/contacts.csv &&
	echo "line,reason,record" >expect &&
	test_cmp expect cleaned/contacts.csv.rejects.csv &&
	test_grep "^clean: 6 records read, 6 written, 0 rejected in " log
'

test_expect_success 'seed: EventProperties split into Event and Properties' '
	cat >events.csv <<-\EOF &&
	id,EventProperties
	1,"{""event"": ""app.open"", ""lat"": 40.5, ""n"": 3, ""ok"": true, ""tags"": [""a,b""], ""note"": null}"
	2,"{""event"": ""sos"", ""device"": {""battery"": 7}}"
	3,
	4,"{""device"": {""model"": ""Caf\u00e9 \""X\""""}}"
	EOF
	cat >t.yaml <<-\EOF &&
	input: events.csv
	output: cleaned/events.csv.gz
	rules:
	  - json:
	      column: EventProperties
	      fields: {Event: event, Battery: device.battery, Model: device.model, Tag0: tags.0}
	      rest: Properties
	  - drop: [EventProperties]
	EOF
	helper run-kind clean t.yaml >out 2>log &&
	zcat cleaned/events.csv.gz >got &&
	cat >expect <<-\EOF &&
	id,Event,Battery,Model,Tag0,Properties
	1,app.open,,,"a,b","{""lat"":40.5,""n"":3,""ok"":true,""tags"":[""a,b""],""note"":null}"
	2,sos,7,,,"{""device"":{""battery"":7}}"
	3,,,,,
	4,,,"Café ""X""",,"{""device"":{""model"":""Café \""X\""""}}"
	EOF
	test_cmp expect got
'

test_expect_success 'select, rename, drop shape the columns' '
	clean_case "a,b,c,d\n1,2,3,4\n" \
		"last,c,first\n4,3,1\n" <<-\EOF
	  - drop: b
	  - rename: {a: first, d: last}
	  - select: [last, c, first]
	EOF
'

test_expect_success 'trim, lower, upper, default, strip_chars, truncate in characters' '
	clean_case "a,b,c\n\" Héllo \t\",Ünï,\n  x  ,yz,\n" \
		"a,b,c\nho,ÜN,none\nx,YZ,none\n" <<-\EOF
	  - trim: a
	  - lower: a
	  - upper: {column: b}
	  - default: {column: c, value: none}
	  - strip_chars: {column: a, chars: "lé"}
	  - truncate: {column: b, width: 2}
	EOF
'

test_expect_success 'replace substitutes every match; a non-match is left alone' '
	clean_case "v\na-b-c\nxyz\n2026-11-01\n" \
		"v\na+b+c\nxyz\n01/11/2026\n" <<-\EOF
	  - replace: {column: v, pattern: "-", with: "+"}
	  - replace: {column: v, pattern: '"'"'^(\d{4})\+(\d\d)\+(\d\d)$'"'"', with: '"'"'$3/$2/$1'"'"'}
	EOF
'

test_expect_success 'split captures into new or existing columns' '
	clean_case "name,first\nAda Lovelace,x\nPlato,y\n" \
		"name,first,last\nAda Lovelace,Ada,Lovelace\nPlato,Plato,\n" <<-\EOF
	  - split: {column: name, pattern: '"'"'^(\S+)(?: (.*))?$'"'"', into: [first, last]}
	EOF
'

test_expect_success 'pad_left pads any value, the empty one too; bucket in place' '
	clean_case "n,s\n7,1e3\n,-5\n123456,abc\n" \
		"n,s\n···7,big\n····,neg\n123456,?\n" <<-\EOF
	  - pad_left: {column: n, width: 4, char: "·"}
	  - bucket: {column: s, bounds: [0, 1000], labels: [neg, small, big], default: "?"}
	EOF
'

test_expect_success 'require rejects with the rule and value; where limits it' '
	printf "id,email,kind\n1,a@x.com,user\n2,nope,user\n3,nope,bot\n" >in.csv &&
	cat >t.yaml <<-\EOF &&
	input: in.csv
	output: out.csv
	max_reject_ratio: 0.5
	rules:
	  - require: {column: email, pattern: "@"}
	    where: {column: kind, matches: "^user$"}
	EOF
	helper run-kind clean t.yaml >out 2>log &&
	echo "{\"records_in\": 3, \"records_out\": 2, \"records_rejected\": 1}" >expect &&
	test_cmp expect out &&
	printf "id,email,kind\n1,a@x.com,user\n3,nope,bot\n" >expect &&
	test_cmp expect out.csv &&
	cat >expect <<-\EOF &&
	line,reason,record
	3,rule 1 (require): column '"'"'email'"'"' value '"'"'nope'"'"' does not match '"'"'@'"'"',"2,nope,user"
	EOF
	test_cmp expect out.csv.rejects.csv
'

test_expect_success 'input as a list reads the files in order as one stream' '
	printf "a,b\n1,2\n" >p1.csv &&
	printf "a,b\n3,4\n" | gzip >p2.csv.gz &&
	cat >t.yaml <<-\EOF &&
	input: [p1.csv, p2.csv.gz]
	output: both.csv
	EOF
	helper run-kind clean t.yaml >out 2>log &&
	printf "a,b\n1,2\n3,4\n" >expect &&
	test_cmp expect both.csv
'

test_expect_success 'TSV and JSON lines in, CSV out' '
	printf "a\tb\nx,1\t\"q\"\n" >in.tsv &&
	printf "input: in.tsv\noutput: tsv.csv\nformat: tsv\n" >t.yaml &&
	helper run-kind clean t.yaml >out 2>log &&
	printf "a,b\n\"x,1\",\"\"\"q\"\"\"\n" >expect &&
	test_cmp expect tsv.csv &&
	printf "{\"a\":\"x\",\"b\":{\"c\":[1,2.50]}}\n{\"b\":null,\"a\":true}\n" >in.jsonl &&
	printf "input: in.jsonl\noutput: jsonl.csv\nformat: jsonl\n" >t.yaml &&
	helper run-kind clean t.yaml >out 2>log &&
	printf "a,b\nx,\"{\"\"c\"\":[1,2.5]}\"\ntrue,\n" >expect &&
	test_cmp expect jsonl.csv
'

test_expect_success 'JSON lines through the json rule, over many batches' '
	python3 -c "
import json
with open(\"many.jsonl\", \"w\") as f:
    for i in range(30000):
        inner = json.dumps({\"event\": \"caf\u00e9 %d\" % i, \"n\": i})
        f.write(json.dumps({\"id\": i, \"p\": inner, \"o\": {\"k\": [i]}}) + \"\\n\")
with open(\"expect\", \"w\", encoding=\"utf-8\") as f:
    f.write(\"id,o,event,n\\n\")
    for i in range(30000):
        f.write(\"%d,\\\"{\\\"\\\"k\\\"\\\":[%d]}\\\",caf\u00e9 %d,%d\\n\" % (i, i, i, i))
" &&
	cat >t.yaml <<-\EOF &&
	input: many.jsonl
	format: jsonl
	output: many.csv
	rules:
	  - json: {column: p, fields: {event: event, n: n}}
	  - drop: p
	EOF
	helper run-kind clean t.yaml >out 2>log &&
	test_cmp expect many.csv
'

test_done
