; Tags for C++ (also the base of cuda.scm). Capture names read by parse.py:
;   @definition.<kind> / @declaration.function with @name   a named definition
;   @reference.call / @reference.type                       a use of a name
;   @include, @class + @base, @directive + @pragma          includes, inheritance, pragmas

(function_definition
  declarator: (function_declarator declarator: (_) @name)) @definition.function
(function_definition
  declarator: (reference_declarator (function_declarator declarator: (_) @name))) @definition.function
(function_definition
  declarator: (pointer_declarator
    declarator: (function_declarator declarator: (_) @name))) @definition.function
(declaration
  declarator: (function_declarator declarator: (_) @name)) @declaration.function
(field_declaration
  declarator: (function_declarator declarator: (_) @name)) @declaration.function
(class_specifier name: (_) @name body: (_)) @definition.class
(struct_specifier name: (_) @name body: (_)) @definition.struct
(union_specifier name: (_) @name body: (_)) @definition.struct
(enum_specifier name: (_) @name body: (_)) @definition.type
(type_definition declarator: (type_identifier) @name) @definition.type
(alias_declaration name: (_) @name) @definition.type
(namespace_definition name: (_) @name) @definition.namespace
(preproc_def name: (_) @name) @definition.macro
(preproc_function_def name: (_) @name) @definition.macro

(call_expression function: [(identifier) (qualified_identifier)] @reference.call)
(call_expression function: (template_function name: (_) @reference.call))
(call_expression function: (field_expression field: (_) @reference.call))
(type_identifier) @reference.type

(preproc_include path: (_) @include)
(class_specifier
  name: (_) @class
  (base_class_clause [(type_identifier) (qualified_identifier) (template_type)] @base))
(struct_specifier
  name: (_) @class
  (base_class_clause [(type_identifier) (qualified_identifier) (template_type)] @base))
(preproc_call directive: (preproc_directive) @directive argument: (_) @pragma)
