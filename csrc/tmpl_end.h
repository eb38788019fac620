/* see tmpl_begin.h */
#undef T
#undef FN
#undef LM
#undef T_IS_F32
#undef ENG_DTYPE
