; Tags for C. Capture names as in cpp.scm.

(function_definition
  declarator: (function_declarator declarator: (_) @name)) @definition.function
(function_definition
  declarator: (pointer_declarator
    declarator: (function_declarator declarator: (_) @name))) @definition.function
(declaration
  declarator: (function_declarator declarator: (identifier) @name)) @declaration.function
(struct_specifier name: (_) @name body: (_)) @definition.struct
(union_specifier name: (_) @name body: (_)) @definition.struct
(enum_specifier name: (_) @name body: (_)) @definition.type
(type_definition declarator: (type_identifier) @name) @definition.type
(preproc_def name: (_) @name) @definition.macro
(preproc_function_def name: (_) @name) @definition.macro

(call_expression function: (identifier) @reference.call)
(call_expression function: (field_expression field: (_) @reference.call))
(type_identifier) @reference.type

(preproc_include path: (_) @include)
(preproc_call directive: (preproc_directive) @directive argument: (_) @pragma)
