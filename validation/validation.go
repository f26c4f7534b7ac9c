package validation

import (
	"bufio"
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"sort"
	"sync"

	"k8s.io/apiextensions-apiserver/pkg/apihelpers"
	"k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/cel"
	structuraldefaulting "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/defaulting"
	structurallisttype "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/listtype"
	schemaobjectmeta "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/objectmeta"
	structuralpruning "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/pruning"
	apiservervalidation "k8s.io/apiextensions-apiserver/pkg/apiserver/validation"
	"k8s.io/apimachinery/pkg/api/operation"
	"k8s.io/apimachinery/pkg/api/validate/content"
	metavalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"k8s.io/apimachinery/pkg/util/validation/field"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	celconfig "k8s.io/apiserver/pkg/apis/cel"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/gatebridge-dev/gatebridge/internal/parallel"
)

//go:embed crds/*.yaml
var embeddedCRDs embed.FS

// Problem is one reason the API server would refuse an object.
type Problem struct {
	Kind      string `json:"kind"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
	// Field is the path in the object the API server names (spec.rules[0].matches[0].path.value).
	Field string `json:"field,omitempty"`
	// Message is what the API server says about the field, in its words
	// (`Invalid value: "api": must start with '/'`).
	Message string `json:"message"`
}

// Object names the object as kubectl does: Kind namespace/name.
func (p Problem) Object() string {
	if p.Namespace == "" {
		return p.Kind + " " + p.Name
	}
	return p.Kind + " " + p.Namespace + "/" + p.Name
}

func (p Problem) String() string {
	if p.Field == "" {
		return p.Object() + ": " + p.Message
	}
	return p.Object() + ": " + p.Field + ": " + p.Message
}

// Validator validates objects against a set of CRDs. It is safe for concurrent use; the
// schema and CEL programs of a kind are built on first use.
type Validator struct {
	// versions holds every served version of every CRD, keyed by group/version/kind.
	versions map[schema.GroupVersionKind]*lazyVersion
}

// lazyVersion builds a version's validator once, when an object of it is first seen:
// compiling the CEL rules of a large CRD (HTTPRoute) costs tens of milliseconds.
type lazyVersion struct {
	crd     *apiextensionsv1.CustomResourceDefinition
	version string
	// libraryCEL leaves the CEL validator exactly as the library builds it (no
	// memoiseSchemas); tests compare the two.
	libraryCEL bool
	once       sync.Once
	v          *versionValidator
	err        error
}

func (l *lazyVersion) get() (*versionValidator, error) {
	l.once.Do(func() { l.v, l.err = newVersionValidator(l.crd, l.version, !l.libraryCEL) })
	return l.v, l.err
}

// versionValidator is what the API server builds for one served version of a CRD.
type versionValidator struct {
	gvk        schema.GroupVersionKind
	namespaced bool
	hasStatus  bool
	// structural is the structural schema with defaults pruned, as the server keeps it for
	// decoding, defaulting and CEL.
	structural      *structuralschema.Structural
	schemaValidator apiservervalidation.SchemaValidator
	cel             *cel.Validator
}

var defaultValidator = sync.OnceValues(func() (*Validator, error) { return New(embeddedCRDs) })

// Default returns the validator of the embedded CRDs (Gateway API v1.6.3 standard channel and
// gatebridge's own), built once. It panics if they do not load, which TestEmbeddedCRDsLoad
// rules out.
func Default() *Validator {
	v, err := defaultValidator()
	if err != nil {
		panic(fmt.Sprintf("validation: embedded CRDs: %v", err))
	}
	return v
}

// Validate validates objs against the embedded CRDs as kube-apiserver would on create, and
// returns every problem in the order of objs. The objects are not modified.
func Validate(objs []client.Object) []Problem { return Default().Validate(objs) }

// New reads every CustomResourceDefinition in the YAML files of fsys (other documents are
// ignored).
func New(fsys fs.FS) (*Validator, error) { return newValidator(fsys, false) }

// newValidator is New; libraryCEL leaves the CEL validators as the library builds them.
func newValidator(fsys fs.FS, libraryCEL bool) (*Validator, error) {
	v := &Validator{versions: map[schema.GroupVersionKind]*lazyVersion{}}
	files, err := fs.Glob(fsys, "*/*.yaml")
	if err != nil {
		return nil, err
	}
	top, err := fs.Glob(fsys, "*.yaml")
	if err != nil {
		return nil, err
	}
	files = append(top, files...)
	if len(files) == 0 {
		return nil, errors.New("no CRD files")
	}
	for _, name := range files {
		raw, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		crds, err := readCRDs(raw)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path.Base(name), err)
		}
		for _, crd := range crds {
			for _, ver := range crd.Spec.Versions {
				if !ver.Served {
					continue
				}
				gvk := schema.GroupVersionKind{Group: crd.Spec.Group, Version: ver.Name, Kind: crd.Spec.Names.Kind}
				if _, dup := v.versions[gvk]; dup {
					return nil, fmt.Errorf("%s: %s is defined twice", path.Base(name), gvk)
				}
				v.versions[gvk] = &lazyVersion{crd: crd, version: ver.Name, libraryCEL: libraryCEL}
			}
		}
	}
	return v, nil
}

// readCRDs decodes the CustomResourceDefinitions of a multi-document YAML file.
func readCRDs(raw []byte) ([]*apiextensionsv1.CustomResourceDefinition, error) {
	var out []*apiextensionsv1.CustomResourceDefinition
	reader := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(raw)))
	for {
		doc, err := reader.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		var tm metav1.TypeMeta
		if err := yaml.Unmarshal(doc, &tm); err != nil {
			return nil, err
		}
		if tm.Kind != "CustomResourceDefinition" || tm.APIVersion != apiextensionsv1.SchemeGroupVersion.String() {
			continue
		}
		crd := &apiextensionsv1.CustomResourceDefinition{}
		if err := yaml.Unmarshal(doc, crd); err != nil {
			return nil, fmt.Errorf("decoding CRD: %w", err)
		}
		out = append(out, crd)
	}
}

// Kinds returns the group/version/kinds the validator knows, sorted.
func (v *Validator) Kinds() []schema.GroupVersionKind {
	out := make([]schema.GroupVersionKind, 0, len(v.versions))
	for gvk := range v.versions {
		out = append(out, gvk)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out
}

// newVersionValidator builds the schema, defaulting and CEL machinery of one served version
// the way kube-apiserver's CRD handler does.
func newVersionValidator(crd *apiextensionsv1.CustomResourceDefinition, version string, memoise bool) (*versionValidator, error) {
	val, err := apihelpers.GetSchemaForVersion(crd, version)
	if err != nil {
		return nil, err
	}
	if val == nil || val.OpenAPIV3Schema == nil {
		return nil, fmt.Errorf("CRD %s version %s has no schema", crd.Name, version)
	}
	internal := &apiextensions.CustomResourceValidation{}
	if err := apiextensionsv1.Convert_v1_CustomResourceValidation_To_apiextensions_CustomResourceValidation(val, internal, nil); err != nil {
		return nil, fmt.Errorf("CRD %s version %s: converting the schema: %w", crd.Name, version, err)
	}
	structural, err := structuralschema.NewStructural(internal.OpenAPIV3Schema)
	if err != nil {
		return nil, fmt.Errorf("CRD %s version %s: schema is not structural: %w", crd.Name, version, err)
	}
	structural = structural.DeepCopy()
	if err := structuraldefaulting.PruneDefaults(structural); err != nil {
		return nil, fmt.Errorf("CRD %s version %s: pruning defaults: %w", crd.Name, version, err)
	}
	schemaValidator, _, err := apiservervalidation.NewSchemaValidator(internal.OpenAPIV3Schema)
	if err != nil {
		return nil, fmt.Errorf("CRD %s version %s: building the schema validator: %w", crd.Name, version, err)
	}
	sub, err := apihelpers.GetSubresourcesForVersion(crd, version)
	if err != nil {
		return nil, err
	}
	// isResourceRoot true, as the API server's CRD handler builds it: the root's rules see
	// apiVersion, kind and metadata.
	celValidator := cel.NewValidator(structural, true, celconfig.PerCallLimit)
	if memoise {
		memoiseSchemas(celValidator)
	}
	return &versionValidator{
		gvk:             schema.GroupVersionKind{Group: crd.Spec.Group, Version: version, Kind: crd.Spec.Names.Kind},
		namespaced:      crd.Spec.Scope == apiextensionsv1.NamespaceScoped,
		hasStatus:       sub != nil && sub.Status != nil,
		structural:      structural,
		schemaValidator: schemaValidator,
		cel:             celValidator,
	}, nil
}

// Validate validates every object (on all cores) and returns the problems in the order of
// objs, each object's in the order the API server reports them.
func (v *Validator) Validate(objs []client.Object) []Problem {
	per := make([][]Problem, len(objs))
	parallel.For(len(objs), func(i int) { per[i] = v.ValidateObject(objs[i]) })
	var out []Problem
	for _, p := range per {
		out = append(out, p...)
	}
	return out
}

// ValidateObject validates one object as kube-apiserver would on create with strict field
// validation. It returns nil when the object would be accepted.
func (v *Validator) ValidateObject(obj client.Object) []Problem {
	if obj == nil {
		return nil
	}
	u, err := emittedForm(obj)
	gvk := obj.GetObjectKind().GroupVersionKind()
	problem := func(fld, msg string) Problem {
		return Problem{Kind: gvk.Kind, Namespace: obj.GetNamespace(), Name: obj.GetName(), Field: fld, Message: msg}
	}
	if err != nil {
		return []Problem{problem("", "cannot be encoded: "+err.Error())}
	}
	return v.validateMap(u, gvk, problem)
}

// ValidateUnstructured validates one object given as decoded JSON or YAML (apiVersion, kind,
// metadata, spec), such as a document of convert's output. in is not modified.
func (v *Validator) ValidateUnstructured(in map[string]any) []Problem {
	// Re-decode as the API server does: integral numbers become int64, whatever decoded u
	// (sigs.k8s.io/yaml gives float64); it also copies u.
	raw, err := json.Marshal(in)
	if err != nil {
		return []Problem{{Message: "cannot be encoded: " + err.Error()}}
	}
	var u map[string]any
	if err := utiljson.Unmarshal(raw, &u); err != nil {
		return []Problem{{Message: "cannot be decoded: " + err.Error()}}
	}
	apiVersion, _ := u["apiVersion"].(string)
	kind, _ := u["kind"].(string)
	gvk := schema.FromAPIVersionAndKind(apiVersion, kind)
	md, _ := u["metadata"].(map[string]any)
	ns, _ := md["namespace"].(string)
	name, _ := md["name"].(string)
	problem := func(fld, msg string) Problem {
		return Problem{Kind: kind, Namespace: ns, Name: name, Field: fld, Message: msg}
	}
	return v.validateMap(u, gvk, problem)
}

func (v *Validator) validateMap(u map[string]any, gvk schema.GroupVersionKind, problem func(fld, msg string) Problem) []Problem {
	lazy, ok := v.versions[gvk]
	if !ok {
		// The RESTMapper's words for a kind the server does not serve.
		return []Problem{problem("", fmt.Sprintf("no matches for kind %q in version %q", gvk.Kind, gvk.GroupVersion().String()))}
	}
	vv, err := lazy.get()
	if err != nil {
		return []Problem{problem("", "the schema of "+gvk.String()+" cannot be used: "+err.Error())}
	}
	var out []Problem
	unknown, err := vv.decode(u)
	if err != nil {
		return []Problem{problem("", err.Error())}
	}
	for _, p := range unknown {
		out = append(out, problem(p, fmt.Sprintf("strict decoding error: unknown field %q", p)))
	}
	for _, e := range vv.validateCreate(u) {
		out = append(out, problem(e.Field, e.ErrorBody()))
	}
	return out
}

// emittedForm is the object as convert writes it (converters.EncodeObjects): JSON fields,
// no status, no null creationTimestamp.
func emittedForm(obj client.Object) (map[string]any, error) {
	u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		return nil, err
	}
	delete(u, "status")
	if md, ok := u["metadata"].(map[string]any); ok && md["creationTimestamp"] == nil {
		delete(md, "creationTimestamp")
	}
	return u, nil
}

// decode does to u what the API server's decoder for the CRD does: ObjectMeta is read and
// coerced, fields the schema does not know are pruned (and returned: with strict field
// validation they are an error), non-nullable nulls dropped, and the schema defaults applied.
func (vv *versionValidator) decode(u map[string]any) (unknown []string, err error) {
	kind, apiVersion := u["kind"], u["apiVersion"]
	objectMeta, foundMeta, metaUnknown, err := schemaobjectmeta.GetObjectMetaWithOptions(u, schemaobjectmeta.ObjectMetaOptions{ReturnUnknownFieldPaths: true})
	if err != nil {
		return nil, err
	}
	unknown = append(unknown, metaUnknown...)
	unknown = append(unknown, structuralpruning.PruneWithOptions(u, vv.structural, true, structuralschema.UnknownFieldPathOptions{TrackUnknownFieldPaths: true})...)
	structuraldefaulting.PruneNonNullableNullsWithoutDefaults(u, vv.structural)
	ferr, paths := schemaobjectmeta.CoerceWithOptions(nil, u, vv.structural, false, schemaobjectmeta.CoerceOptions{ReturnUnknownFieldPaths: true})
	if ferr != nil {
		return nil, ferr
	}
	unknown = append(unknown, paths...)
	u["kind"], u["apiVersion"] = kind, apiVersion
	if foundMeta {
		if err := schemaobjectmeta.SetObjectMeta(u, objectMeta); err != nil {
			return nil, err
		}
	}
	structuraldefaulting.Default(u, vv.structural)
	sort.Strings(unknown)
	return unknown, nil
}

// validateCreate is the custom resource strategy's create validation: ObjectMeta (name a
// DNS subdomain), the OpenAPI schema, embedded ObjectMeta, list-type invariants and, unless
// a blocking schema error came first, the CEL rules; then the generic ObjectMeta checks.
func (vv *versionValidator) validateCreate(u map[string]any) field.ErrorList {
	if vv.hasStatus {
		delete(u, "status") // create cannot set status
	}
	ctx := context.Background()
	meta := &metav1.ObjectMeta{}
	if raw, ok := u["metadata"].(map[string]any); ok {
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(raw, meta); err != nil {
			return field.ErrorList{field.Invalid(field.NewPath("metadata"), raw, err.Error())}
		}
	}
	meta.Generation = 1
	var errs field.ErrorList
	errs = append(errs, metavalidation.ValidateObjectMetaDeclaratively(ctx, operation.Create, meta, nil, vv.namespaced, metavalidation.NameIsDNSSubdomain, field.NewPath("metadata"), true)...)
	errs = append(errs, apiservervalidation.ValidateCustomResource(nil, u, vv.schemaValidator)...)
	errs = append(errs, schemaobjectmeta.Validate(ctx, nil, u, vv.structural, false)...)
	errs = append(errs, structurallisttype.ValidateListSetsAndMaps(nil, vv.structural, u)...)
	// cel is nil when the schema has no rules; the server then skips this step entirely.
	if vv.cel != nil {
		if blocking := blockingError(errs); blocking != nil {
			errs = append(errs, blocking)
		} else {
			celErrs, _ := vv.cel.Validate(ctx, nil, vv.structural, u, nil, celconfig.RuntimeCELCostBudget)
			errs = append(errs, celErrs...)
		}
	}
	if len(errs) == 0 {
		errs = metavalidation.ValidateObjectMetaAccessor(meta, vv.namespaced, pathSegmentName, field.NewPath("metadata"))
	}
	return errs
}

// pathSegmentName: a name must be usable as a URL path segment (not "." or "..", no "/" or
// "%"), the API server's last check of every created object's name.
func pathSegmentName(name string, prefix bool) []string {
	if prefix {
		return content.IsPathSegmentPrefix(name)
	}
	return content.IsPathSegmentName(name)
}

// blockingError: the API server skips the CEL rules when the object already fails its
// schema in a way the rules could trip over (type, required, enum, size), and says so.
func blockingError(errs field.ErrorList) *field.Error {
	for _, err := range errs {
		switch err.Type {
		case field.ErrorTypeNotSupported, field.ErrorTypeRequired, field.ErrorTypeTooLong, field.ErrorTypeTooMany, field.ErrorTypeTypeInvalid:
			return field.Invalid(nil, nil, "some validation rules were not checked because the object was invalid; correct the existing errors to complete validation")
		}
	}
	return nil
}
