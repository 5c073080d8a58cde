package fileset_test

import (
	"fmt"
	"strings"

	"flashbench/fileset"
)

func ExampleReadCLF() {
	log := `127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /dir00000/class1_4 HTTP/1.0" 200 5324
127.0.0.1 - - [10/Oct/2000:13:55:37 -0700] "POST /cgi-bin/form HTTP/1.0" 200 120
10.0.0.2 - - [10/Oct/2000:13:55:38 -0700] "GET /dir00002/class0_3 HTTP/1.1" 304 - "-" "Mozilla/4.08"
`
	paths, err := fileset.ReadCLF(strings.NewReader(log))
	fmt.Println(paths, err)
	// Output: [/dir00000/class1_4 /dir00002/class0_3] <nil>
}

func ExampleFileSize() {
	for c := 0; c < fileset.Classes; c++ {
		fmt.Println(fileset.FileSize(fileset.KindSPECweb99, c, 0), fileset.FileSize(fileset.KindSPECweb99, c, 8))
	}
	// Output:
	// 102 921
	// 1024 9216
	// 10240 92160
	// 102400 921600
}
