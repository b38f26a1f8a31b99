// Package hadooprun is test support that runs Amazon EMR steps the way
// Hadoop streaming would, on one machine: the steps scripts/s3pipe-emr
// generates (AddJobFlowSteps JSON, command-runner.jar `hadoop-streaming ...`)
// are parsed, their s3:// input, output and -files paths are mapped to local
// directories, and each job runs with Hadoop streaming's semantics:
//
//   - input splits: NLineInputFormat gives each map task N lines and hands the
//     mapper "<byte offset>\t<line>" (unless stream.map.input.ignoreKey=true);
//     TextInputFormat gives one split per file (gzip decompressed) and only the
//     lines, as streaming ignores its key;
//   - the task environment: every job configuration entry as an environment
//     variable with non-alphanumerics replaced by '_', plus the per-task ones
//     (mapreduce_task_ismap, mapreduce_task_attempt_id, map_input_file, ...),
//     under their current and deprecated names, and -cmdenv;
//   - map tasks in parallel; map output split into key and value at the
//     stream.num.map.output.key.fields-th TAB; partitioned by
//     KeyFieldBasedPartitioner (-kM,N field specs) or HashPartitioner, with
//     Java's hash arithmetic; sorted by key bytes (values of one key in an
//     arbitrary, seeded order, as Hadoop's merge guarantees none);
//   - reducers fed "key\tvalue" lines; TextOutputFormat output (key TAB value),
//     gzip when mapreduce.output.fileoutputformat.compress is set;
//   - reporter:counter lines summed per task, for successful attempts only;
//   - failed attempts retried up to mapreduce.{map,reduce}.maxattempts, with
//     the output committer's rule: only the successful attempt's output is
//     promoted into the output directory (part-NNNNN), then _SUCCESS.
//
// Faults can kill a chosen attempt mid-way (SIGKILL to its process group),
// which proves a step survives a retried task.
package hadooprun

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// AddJobFlowSteps is the input of EMR's AddJobFlowSteps API, as
// `aws emr add-steps --cli-input-json` reads it.
type AddJobFlowSteps struct {
	JobFlowId        string       `json:"JobFlowId,omitempty"`
	Steps            []StepConfig `json:"Steps"`
	ExecutionRoleArn string       `json:"ExecutionRoleArn,omitempty"`
}

// StepConfig is one EMR step (API type StepConfig).
type StepConfig struct {
	Name            string              `json:"Name"`
	ActionOnFailure string              `json:"ActionOnFailure,omitempty"`
	HadoopJarStep   HadoopJarStepConfig `json:"HadoopJarStep"`
}

// HadoopJarStepConfig is the JAR a step runs (API type HadoopJarStepConfig).
type HadoopJarStepConfig struct {
	Jar        string     `json:"Jar"`
	Args       []string   `json:"Args,omitempty"`
	MainClass  string     `json:"MainClass,omitempty"`
	Properties []KeyValue `json:"Properties,omitempty"`
}

// KeyValue is a Java property of a step.
type KeyValue struct {
	Key   string `json:"Key"`
	Value string `json:"Value"`
}

// ActionsOnFailure are the values the API accepts for ActionOnFailure.
var ActionsOnFailure = []string{"TERMINATE_JOB_FLOW", "TERMINATE_CLUSTER", "CANCEL_AND_WAIT", "CONTINUE"}

// ParseSteps decodes AddJobFlowSteps input strictly: unknown fields are an
// error, so a misspelt field name fails here instead of at the EMR API.
func ParseSteps(data []byte) (*AddJobFlowSteps, error) {
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	var in AddJobFlowSteps
	if err := dec.Decode(&in); err != nil {
		return nil, fmt.Errorf("add-steps JSON: %w", err)
	}
	if dec.More() {
		return nil, fmt.Errorf("add-steps JSON: data after the object")
	}
	return &in, nil
}

// Validate checks the constraints the AddJobFlowSteps API documents: at most
// 256 steps; Name required, ≤ 256 characters of the allowed set; Jar
// required; ActionOnFailure one of ActionsOnFailure; strings ≤ 10280
// characters (XmlString); JobFlowId ≤ 256.
func (in *AddJobFlowSteps) Validate() error {
	if len(in.JobFlowId) > 256 {
		return fmt.Errorf("JobFlowId longer than 256 characters")
	}
	if len(in.Steps) == 0 || len(in.Steps) > 256 {
		return fmt.Errorf("want 1..256 steps, got %d", len(in.Steps))
	}
	for i, s := range in.Steps {
		at := fmt.Sprintf("step %d (%q)", i+1, s.Name)
		if s.Name == "" || len([]rune(s.Name)) > 256 {
			return fmt.Errorf("%s: Name must be 1..256 characters", at)
		}
		for _, r := range s.Name {
			if !(r == '\t' || r == '\n' || r == '\r' || r >= 0x20 && r <= 0xD7FF || r >= 0xE000 && r <= 0xFFFD || r >= 0x10000 && r <= 0x10FFFF) {
				return fmt.Errorf("%s: Name holds %q, outside the API's pattern", at, r)
			}
		}
		if s.ActionOnFailure != "" && !contains(ActionsOnFailure, s.ActionOnFailure) {
			return fmt.Errorf("%s: ActionOnFailure %q is not one of %v", at, s.ActionOnFailure, ActionsOnFailure)
		}
		if s.HadoopJarStep.Jar == "" {
			return fmt.Errorf("%s: HadoopJarStep.Jar is required", at)
		}
		for j, a := range append([]string{s.HadoopJarStep.Jar, s.HadoopJarStep.MainClass}, s.HadoopJarStep.Args...) {
			if len(a) > 10280 {
				return fmt.Errorf("%s: string %d longer than 10280 characters", at, j)
			}
		}
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// Job is one parsed `hadoop-streaming` invocation.
type Job struct {
	Name        string
	Conf        map[string]string // -D entries
	ConfOrder   []string          // -D keys in order, for the environment
	Files       []string          // -files URIs
	Inputs      []string
	Output      string
	Mapper      string
	Reducer     string // "" = none
	InputFormat string // full class name
	Partitioner string // full class name, "" = HashPartitioner
	Reduces     int    // -numReduceTasks, else mapreduce.job.reduces, else 1
	CmdEnv      []string
}

// Class names the runner knows.
const (
	TextInputFormat          = "org.apache.hadoop.mapred.TextInputFormat"
	NLineInputFormat         = "org.apache.hadoop.mapred.lib.NLineInputFormat"
	KeyFieldBasedPartitioner = "org.apache.hadoop.mapred.lib.KeyFieldBasedPartitioner"
	HashPartitioner          = "org.apache.hadoop.mapred.lib.HashPartitioner"
)

// ParseStreaming parses command-runner.jar's Args for a streaming job:
// "hadoop-streaming", generic options (-D k=v, -files a,b), then streaming
// options. A generic option after a streaming one is an error, as Hadoop's
// GenericOptionsParser stops at the first option it does not know. Options
// the runner cannot reproduce (-combiner, -outputformat, ...) are errors too.
func ParseStreaming(name string, args []string) (*Job, error) {
	if len(args) == 0 || args[0] != "hadoop-streaming" {
		return nil, fmt.Errorf("step %q: want command-runner.jar args starting with hadoop-streaming, got %q", name, args)
	}
	j := &Job{Name: name, Conf: map[string]string{}, InputFormat: TextInputFormat, Reduces: -1}
	generic := true
	for i := 1; i < len(args); i++ {
		opt := args[i]
		if i+1 >= len(args) {
			return nil, fmt.Errorf("step %q: option %s needs a value", name, opt)
		}
		val := args[i+1]
		i++
		switch opt {
		case "-D", "-files":
			if !generic {
				return nil, fmt.Errorf("step %q: generic option %s %q after streaming options: Hadoop would not read it", name, opt, val)
			}
			if opt == "-files" {
				j.Files = append(j.Files, strings.Split(val, ",")...)
				continue
			}
			k, v, ok := strings.Cut(val, "=")
			if !ok || k == "" {
				return nil, fmt.Errorf("step %q: -D %q is not key=value", name, val)
			}
			if _, seen := j.Conf[k]; !seen {
				j.ConfOrder = append(j.ConfOrder, k)
			}
			j.Conf[k] = v
			continue
		}
		generic = false
		switch opt {
		case "-input":
			j.Inputs = append(j.Inputs, val)
		case "-output":
			j.Output = val
		case "-mapper":
			j.Mapper = val
		case "-reducer":
			j.Reducer = val
		case "-inputformat":
			j.InputFormat = val
		case "-partitioner":
			j.Partitioner = val
		case "-numReduceTasks":
			n, err := strconv.Atoi(val)
			if err != nil || n < 0 {
				return nil, fmt.Errorf("step %q: -numReduceTasks %q", name, val)
			}
			j.Reduces = n
		case "-cmdenv":
			if !strings.Contains(val, "=") {
				return nil, fmt.Errorf("step %q: -cmdenv %q is not NAME=VALUE", name, val)
			}
			j.CmdEnv = append(j.CmdEnv, val)
		default:
			return nil, fmt.Errorf("step %q: option %s is not supported by the local runner", name, opt)
		}
	}
	switch {
	case len(j.Inputs) == 0:
		return nil, fmt.Errorf("step %q: no -input", name)
	case j.Output == "":
		return nil, fmt.Errorf("step %q: no -output", name)
	case j.Mapper == "":
		return nil, fmt.Errorf("step %q: no -mapper", name)
	}
	if j.InputFormat != TextInputFormat && j.InputFormat != NLineInputFormat {
		return nil, fmt.Errorf("step %q: input format %s is not supported", name, j.InputFormat)
	}
	if j.Partitioner != "" && j.Partitioner != KeyFieldBasedPartitioner && j.Partitioner != HashPartitioner {
		return nil, fmt.Errorf("step %q: partitioner %s is not supported", name, j.Partitioner)
	}
	if j.Reduces < 0 {
		j.Reduces = 1
		if v, ok := j.Conf["mapreduce.job.reduces"]; ok {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return nil, fmt.Errorf("step %q: mapreduce.job.reduces=%q", name, v)
			}
			j.Reduces = n
		}
	}
	if j.Reduces > 0 && j.Reducer == "" {
		// Streaming's default reducer is the identity; the steps never rely on it.
		return nil, fmt.Errorf("step %q: %d reducers but no -reducer", name, j.Reduces)
	}
	if j.Reducer != "" && j.Reduces == 0 {
		return nil, fmt.Errorf("step %q: -reducer with 0 reduce tasks would never run", name)
	}
	return j, nil
}

// SplitArgs splits a streaming -mapper/-reducer command into words exactly as
// Hadoop's StreamUtil.splitArgs does: spaces outside quotes separate words;
// a ' or " opens a quoted run up to the same quote; a quote also ends the
// word before it (so ab'cd' is two words); there are no escapes; empty words
// are dropped. Hadoop then runs the words without a shell.
func SplitArgs(s string) []string {
	const (
		outside = iota
		single
		double
	)
	var out []string
	state, start := outside, 0
	for c := 0; c <= len(s); c++ {
		last := c == len(s)
		end := false
		if !last {
			prev := state
			switch s[c] {
			case '\'':
				switch state {
				case outside:
					state = single
				case single:
					state = outside
				}
				end = state != prev
			case '"':
				switch state {
				case outside:
					state = double
				case double:
					state = outside
				}
				end = state != prev
			case ' ':
				end = state == outside
			}
		}
		if last || end {
			if c != start {
				out = append(out, s[start:c])
			}
			start = c + 1
		}
	}
	return out
}
